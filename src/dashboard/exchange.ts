/** The neutral request and answer of the dashboard and the setup portal: what the Express and Koa adapters translate. */
import type { IncomingHttpHeaders } from 'node:http';

/** One dashboard request, as the adapters hand it over. */
export interface DashboardRequest {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** The URL path below the mount point (`/admin/customers/acme`), still percent-encoded. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The absolute path of the mount point as the browser sees it (Express `req.baseUrl`; '' at the root). */
  readonly mountPath: string;
  readonly headers: IncomingHttpHeaders;
  /** Whether the browser reached the app over https. */
  readonly secure: boolean;
  /**
   * The urlencoded form of a POST (src/dashboard/form.ts), read up to `maxBytes` (default FORM_LIMIT_BYTES);
   * rejects with an error carrying a 4xx `status`.
   */
  form(maxBytes?: number): Promise<Record<string, unknown>>;
}

/** The dashboard's answer; adapters write it as it is. */
export interface DashboardResponse {
  status: number;
  headers: Record<string, string>;
  /** `Set-Cookie` lines. */
  cookies: string[];
  body: string;
}
