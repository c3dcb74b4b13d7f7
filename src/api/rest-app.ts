/**
 * The REST API as an Express app, for embedding it in an Express server (the
 * daemon serves createRestHandler on node:http directly). In a file of its
 * own so that the REST thread does not load Express.
 */
import express from 'express';
import type { ApiBackend } from './backend.js';
import { defaultApiLog } from './log.js';
import { createRestHandler, type RestOptions, sendError } from './rest.js';
import { toHttpError } from './status-map.js';

/** The same REST API as an Express app (for embedding it in an Express server), ready for app.listen(). */
export function createRestApp(backend: ApiBackend, opts: RestOptions): express.Express {
  const log = opts.log ?? defaultApiLog;
  const handler = createRestHandler(backend, opts);
  const app = express();
  // No framework extras: grpc-gateway sends no X-Powered-By or ETag, and we
  // parse query strings ourselves with Go's rules.
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('query parser', false);
  app.use((req, res) => handler(req, res));
  // A last resort for anything thrown outside the handlers: still JSON, never Express's HTML page.
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    sendError(res, toHttpError(error, log));
  });
  return app;
}
