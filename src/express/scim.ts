/** The Express adapter: a thin translation between Express and the neutral SCIM handler. */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ScimResponse } from '../scim/http.js';
import type { ScimHandler } from '../scim/handler.js';
import { requestOrigin, settleUnreadBody, toScimRequest, type ScimMountOptions } from '../scim/mount.js';
import { writeBody } from '../scim/response-body.js';

function send(res: Response, response: ScimResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  writeBody(res, response.body, response.sent);
}

/** Express middleware serving the SCIM routes under `basePath` and passing every other request on. */
export function expressScimMiddleware(handler: ScimHandler, options: ScimMountOptions): RequestHandler {
  return async function scimSsoMiddleware(req: Request, res: Response, next: NextFunction) {
    try {
      const request = toScimRequest(
        {
          node: req,
          url: req.url,
          parsedBody: (req as { body?: unknown }).body,
          // req.protocol and req.host follow X-Forwarded-Proto/-Host when the app trusts its proxy, as the Koa adapter (rawHost) does with app.proxy.
          mountUrl: () => `${requestOrigin(req.protocol, req.host)}${req.baseUrl}`,
        },
        options,
      );
      if (request === null) return next();
      const response = await handler(request);
      send(res, { ...response, headers: settleUnreadBody(req, response.headers) });
    } catch (error) {
      next(error);
    }
  };
}
