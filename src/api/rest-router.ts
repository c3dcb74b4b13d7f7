/**
 * Route matching as grpc-gateway v2's ServeMux does it (runtime/mux.go): a
 * path is split on '/' and matched segment by segment against each route's
 * template; a path no route knows is 404 "Not Found" (gRPC code 5), a known
 * path with the wrong method 501 "Method Not Allowed" (code 12, from
 * DefaultRoutingErrorHandler), and a form-urlencoded POST to a GET-only path
 * is served as that GET (the mux's "path length fallback", whose form body
 * carries the query parameters).
 *
 * One deliberate difference: segments are percent-decoded one by one after
 * splitting, so a standard-base64 key with its '/' escaped as %2F reaches
 * the Get and Delete routes; grpc-gateway's default (legacy) unescaping
 * decodes the whole path first, splits at the decoded '/', and answers 404.
 */

/** A route template's segment: a literal, or a path parameter that captures one whole segment. */
export type Segment = string | { param: string };

/** One REST route: a method, a path template and what serves it. */
export interface Route<H> {
  method: string;
  /** The path template as written (`/v0/kv/key/{key}`): the route's name in logs and metrics. */
  template: string;
  segments: readonly Segment[];
  handler: H;
}

/** The outcome of matching a request against the routes. */
export type RouteMatch<H> =
  | { kind: 'match'; route: Route<H>; params: Record<string, string>; formFallback: boolean }
  | { kind: 'not-found' }
  | { kind: 'method-not-allowed' }
  | { kind: 'bad-request' };

/** A route template from its text: `/v0/kv/key/{key}`. */
export function parseTemplate(template: string): Segment[] {
  return template
    .slice(1)
    .split('/')
    .map((s) => (s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : s));
}

/** The path parameters if `components` match `segments`, else null. */
function matchSegments(
  segments: readonly Segment[],
  components: readonly string[],
): Record<string, string> | null {
  if (segments.length !== components.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const component = components[i]!;
    if (typeof segment === 'string') {
      if (segment !== component) return null;
    } else {
      params[segment.param] = component;
    }
  }
  return params;
}

/** The headers of a request that routing looks at. */
export interface RoutingHeaders {
  contentType: string | undefined;
  methodOverride: string | undefined;
}

const FORM = 'application/x-www-form-urlencoded';

/**
 * The routes, and the match of each path that is a route's template with no parameters, worked
 * out when the table is built: for a request that is not a form post the outcome depends only on
 * the method and the path, so the hot routes (POST /v0/kv) skip splitting and decoding the path.
 */
export class RouteTable<H> {
  private readonly literal = new Map<string, RouteMatch<H>>();

  constructor(readonly routes: readonly Route<H>[]) {
    const noForm = { contentType: undefined, methodOverride: undefined };
    for (const route of routes) {
      if (route.segments.some((s) => typeof s !== 'string')) continue;
      const match = matchBySegments(routes, route.method, route.template, noForm);
      // Shared by every request on the path: frozen, so that no caller can change another's.
      if (match.kind === 'match') Object.freeze(match.params);
      this.literal.set(`${route.method} ${route.template}`, Object.freeze(match));
    }
  }

  /**
   * Match a request (method and raw, still-encoded path) against the routes.
   * A form-urlencoded POST may name another method in X-HTTP-Method-Override,
   * and if no POST route matches it falls back to a GET route of the same path.
   */
  match(method: string, rawPath: string, headers: RoutingHeaders): RouteMatch<H> {
    if (headers.contentType !== FORM) {
      const literal = this.literal.get(`${method} ${rawPath}`);
      if (literal !== undefined) return literal;
    }
    return matchBySegments(this.routes, method, rawPath, headers);
  }
}

/** A match found by splitting and decoding the path and trying each route's segments. */
function matchBySegments<H>(
  routes: readonly Route<H>[],
  method: string,
  rawPath: string,
  headers: RoutingHeaders,
): RouteMatch<H> {
  if (!rawPath.startsWith('/')) return { kind: 'bad-request' };
  let components: string[];
  try {
    components = rawPath.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return { kind: 'bad-request' }; // a malformed %-escape, which Go's HTTP server refuses too
  }
  // grpc-gateway compares the Content-Type header exactly, parameters and case included.
  let formPost = method === 'POST' && headers.contentType === FORM;
  if (formPost && headers.methodOverride) {
    method = headers.methodOverride.toUpperCase();
    formPost = method === 'POST'; // an overridden request no longer falls back
  }
  for (const route of routes) {
    if (route.method !== method) continue;
    const params = matchSegments(route.segments, components);
    if (params) return { kind: 'match', route, params, formFallback: false };
  }
  // Only GET is a fallback target: never fall back to a DELETE.
  let otherMethod = false;
  for (const route of routes) {
    if (route.method === method || !matchSegments(route.segments, components)) continue;
    if (formPost && route.method === 'GET') {
      return { kind: 'match', route, params: matchSegments(route.segments, components)!, formFallback: true };
    }
    otherMethod = true;
  }
  return otherMethod ? { kind: 'method-not-allowed' } : { kind: 'not-found' };
}
