/**
 * Keeps a passport instance's per-customer strategies current, for the login routes of both adapters:
 * the login step re-reads the customer's OIDC client (so changes apply at the next login, on every
 * instance) and re-registers the strategy when the client changed; the callback reuses what is registered.
 */
import type { Strategy } from 'openid-client/passport';
import { strategyName, type OidcRuntime } from './passport.js';

/** The part of passport (0.6 in koa-passport, 0.7 for Express) the registry needs. */
export interface StrategyHost {
  use(name: string, strategy: Strategy): unknown;
}

export class StrategyRegistry {
  /** The `updatedAt` of the OIDC client each registered strategy was built from, per customer. */
  private readonly builtFrom = new Map<string, string>();

  constructor(
    private readonly runtime: OidcRuntime,
    private readonly host: StrategyHost,
  ) {}

  /** Registers (or refreshes) the customer's strategy and returns its name. `fresh` re-reads the store. */
  async ensure(customerId: string, fresh: boolean): Promise<string> {
    const config = fresh ? await this.runtime.load(customerId) : await this.runtime.current(customerId);
    const name = strategyName(customerId);
    if (this.builtFrom.get(customerId) !== config.client.updatedAt) {
      this.host.use(name, await this.runtime.strategy(customerId));
      this.builtFrom.set(customerId, config.client.updatedAt);
    }
    return name;
  }
}
