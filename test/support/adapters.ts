/** The HTTP frameworks scim-sso adapts to; shared test cases run once per adapter. */
export type AdapterKind = 'express' | 'koa';
export const ADAPTERS: AdapterKind[] = ['express', 'koa'];
