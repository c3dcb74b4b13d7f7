/**
 * The REST API: the routes of proto/dkv/v0's google.api.http annotations,
 * answering what grpc-gateway v2 in front of the gRPC services would, byte
 * for byte where grpc-gateway is deterministic (see json.ts for the JSON,
 * rest-router.ts for routing, query.ts for query strings, status-map.ts for
 * errors).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { invalidArgument } from '../errors.js';
import { Consistency } from '../gen/dkv/v0/kvstore.js';
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../storage/limits.js';
import type { ApiBackend } from './backend.js';
import { base64Problem, decodeBase64 } from './base64.js';
import { parseGrpcTimeout } from './deadline.js';
import { readBody } from './http-body.js';
import {
  decodeCompareAndSwapRequest,
  decodeEmptyRequest,
  decodeMemberAddRequest,
  decodePutRequest,
  decodeTransferLeadershipRequest,
  encodeCompareAndSwapResponse,
  encodeDeleteResponse,
  encodeErrorBody,
  encodeGetResponse,
  encodeMemberAddResponse,
  encodeMemberListResponse,
  encodeMemberRemoveResponse,
  encodePutResponse,
  encodeRangeResponse,
  encodeShutdownResponse,
  encodeStatusResponse,
  encodeTransferLeadershipResponse,
} from './json.js';
import { createKvService, type KvService } from './kv-service.js';
import { type ApiLog, defaultApiLog } from './log.js';
import type { OpsRoutes } from './ops-routes.js';
import { parseQuery, populateQuery, type QueryField, type QueryValues } from './query.js';
import { parseTemplate, type Route, RouteTable } from './rest-router.js';
import { type HttpError, httpErrorFromStatus, toHttpError } from './status-map.js';
import type { SizeLimits } from './validate.js';

/** Options of the REST API. */
export interface RestOptions {
  /** The deadline of a request without a Grpc-Timeout header, in milliseconds from its arrival. */
  requestTimeoutMs: number;
  /** Where unexpected errors are logged (they reach the client only as INTERNAL). */
  log?: ApiLog;
  /** Key and value sizes to accept (default: the storage's caps). */
  limits?: SizeLimits;
  /** Operator routes (/healthz, /readyz, /metrics) served before the API's routes. */
  ops?: OpsRoutes;
  /**
   * Told of every request once answered: its method, route template (`unmatched` when no route
   * took it), HTTP status and time from arrival to the end of the handler, in milliseconds.
   */
  observeRequest?: (method: string, route: string, status: number, ms: number) => void;
}

/** The route label of a request no route took (so unknown paths cannot multiply metric series). */
export const UNMATCHED_ROUTE = 'unmatched';

/** The length of `bytes` bytes in base64. */
const base64Length = (bytes: number) => Math.ceil(bytes / 3) * 4;

/** Room in a body for field names, whitespace and fields we ignore. */
const BODY_OVERHEAD_BYTES = 64 * 1024;

/** The largest Put body: a key and a value at their limits, in base64, plus overhead. */
export const PUT_BODY_LIMIT_BYTES =
  base64Length(MAX_KEY_BYTES) + base64Length(MAX_VALUE_BYTES) + BODY_OVERHEAD_BYTES;

/** The largest CompareAndSwap body: it carries two values (expected and new). */
export const CAS_BODY_LIMIT_BYTES =
  base64Length(MAX_KEY_BYTES) + 2 * base64Length(MAX_VALUE_BYTES) + BODY_OVERHEAD_BYTES;

/** The largest body of a cluster call (ids and addresses only). */
const SMALL_BODY_LIMIT_BYTES = BODY_OVERHEAD_BYTES;

/** The largest form body of a POST served as a GET (it holds only query parameters). */
const FORM_BODY_LIMIT_BYTES = BODY_OVERHEAD_BYTES;

/** One request as a route handler sees it. */
interface RestCall {
  req: IncomingMessage;
  params: Record<string, string>;
  rawQuery: string;
  formFallback: boolean;
  deadlineMs: number;
}

/** A route handler: the JSON body of the 200 response, or a throw. */
type Handler = (call: RestCall) => Promise<string>;

const CONSISTENCY: QueryField = { protoName: 'consistency', jsonName: 'consistency', kind: 'consistency' };
const PREFIX: QueryField = { protoName: 'prefix', jsonName: 'prefix', kind: 'bytes' };
const LIMIT: QueryField = { protoName: 'limit', jsonName: 'limit', kind: 'uint32' };
const PAGE_TOKEN: QueryField = { protoName: 'page_token', jsonName: 'pageToken', kind: 'string' };
const GET_QUERY_FIELDS = [CONSISTENCY] as const;
const RANGE_QUERY_FIELDS = [PREFIX, LIMIT, PAGE_TOKEN, CONSISTENCY] as const;

/** The `{key}` path parameter decoded, with grpc-gateway's message for bad base64. */
function pathKey(call: RestCall): Buffer {
  const text = call.params.key ?? '';
  const key = decodeBase64(text);
  if (key === null) {
    throw invalidArgument(
      `type mismatch, parameter: key, error: illegal base64 data at input byte ${base64Problem(text)}`,
    );
  }
  return key;
}

/**
 * The query parameters, as ParseForm gathers them: for a POST served as a
 * GET, the form body's values first, then the URL's.
 */
async function queryValues(call: RestCall): Promise<QueryValues> {
  const values: QueryValues = new Map();
  if (call.formFallback) {
    const form = await readBody(call.req, FORM_BODY_LIMIT_BYTES, 'a form');
    parseQuery(form.toString('utf8'), values);
  }
  return parseQuery(call.rawQuery, values);
}

/** The routes, in the order of proto/dkv/v0. */
function routes(service: KvService): Route<Handler>[] {
  const route = (method: string, template: string, handler: Handler): Route<Handler> => ({
    method,
    template,
    segments: parseTemplate(template),
    handler,
  });
  return [
    route('POST', '/v0/kv', async (call) => {
      const request = decodePutRequest(await readBody(call.req, PUT_BODY_LIMIT_BYTES, 'a Put'));
      return encodePutResponse(await service.put(request, call.deadlineMs));
    }),
    route('GET', '/v0/kv/key/{key}', async (call) => {
      const key = pathKey(call);
      const query = populateQuery(await queryValues(call), GET_QUERY_FIELDS, ['key']);
      const consistency = (query.get(CONSISTENCY) as Consistency | undefined) ?? Consistency.LINEARIZABLE;
      return encodeGetResponse(await service.get({ key, consistency }, call.deadlineMs));
    }),
    route('DELETE', '/v0/kv/key/{key}', async (call) => {
      const key = pathKey(call);
      populateQuery(await queryValues(call), [], ['key']);
      return encodeDeleteResponse(await service.delete({ key }, call.deadlineMs));
    }),
    route('GET', '/v0/kv', async (call) => {
      const query = populateQuery(await queryValues(call), RANGE_QUERY_FIELDS);
      const request = {
        prefix: (query.get(PREFIX) as Buffer | undefined) ?? Buffer.alloc(0),
        limit: (query.get(LIMIT) as number | undefined) ?? 0,
        pageToken: (query.get(PAGE_TOKEN) as string | undefined) ?? '',
        consistency: (query.get(CONSISTENCY) as Consistency | undefined) ?? Consistency.LINEARIZABLE,
      };
      return encodeRangeResponse(await service.range(request, call.deadlineMs));
    }),
    route('POST', '/v0/kv/cas', async (call) => {
      const request = decodeCompareAndSwapRequest(
        await readBody(call.req, CAS_BODY_LIMIT_BYTES, 'a CompareAndSwap'),
      );
      return encodeCompareAndSwapResponse(await service.compareAndSwap(request, call.deadlineMs));
    }),
    route('GET', '/v0/cluster/status', async (call) => {
      populateQuery(await queryValues(call), []);
      return encodeStatusResponse(await service.status());
    }),
    route('GET', '/v0/cluster/members', async (call) => {
      populateQuery(await queryValues(call), []);
      return encodeMemberListResponse(await service.memberList(call.deadlineMs));
    }),
    route('POST', '/v0/cluster/members', async (call) => {
      const request = decodeMemberAddRequest(await readBody(call.req, SMALL_BODY_LIMIT_BYTES, 'a MemberAdd'));
      return encodeMemberAddResponse(await service.memberAdd(request, call.deadlineMs));
    }),
    route('DELETE', '/v0/cluster/members/{id}', async (call) => {
      populateQuery(await queryValues(call), [], ['id']);
      const id = call.params.id ?? '';
      return encodeMemberRemoveResponse(await service.memberRemove({ id }, call.deadlineMs));
    }),
    route('POST', '/v0/cluster/leader', async (call) => {
      const request = decodeTransferLeadershipRequest(
        await readBody(call.req, SMALL_BODY_LIMIT_BYTES, 'a TransferLeadership'),
      );
      return encodeTransferLeadershipResponse(await service.transferLeadership(request, call.deadlineMs));
    }),
    route('POST', '/v0/cluster/shutdown', async (call) => {
      decodeEmptyRequest(await readBody(call.req, SMALL_BODY_LIMIT_BYTES, 'a Shutdown'));
      return encodeShutdownResponse(await service.shutdown());
    }),
  ];
}

/**
 * Write a JSON response. A 200 carries the Grpc-Metadata-Content-Type header
 * that grpc-gateway forwards from the gRPC server's response headers.
 */
function send(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | number> = {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
  };
  if (status === 200) headers['Grpc-Metadata-Content-Type'] = 'application/grpc';
  res.writeHead(status, headers);
  res.end(body);
}

/** Write an error response as grpc-gateway's DefaultHTTPErrorHandler. */
export function sendError(res: ServerResponse, error: HttpError): void {
  send(res, error.status, encodeErrorBody(error.body));
}

/**
 * The request's absolute deadline: now plus its Grpc-Timeout header (which
 * grpc-gateway honours; 0 means none), or plus the default timeout.
 */
function requestDeadlineMs(req: IncomingMessage, defaultTimeoutMs: number): number {
  const header = req.headers['grpc-timeout'];
  const now = Date.now();
  if (typeof header !== 'string' || header === '') return now + defaultTimeoutMs;
  const timeoutMs = parseGrpcTimeout(header);
  if (timeoutMs === null) throw invalidArgument(`invalid grpc-timeout: ${header}`);
  return now + (timeoutMs === 0 ? defaultTimeoutMs : timeoutMs);
}

/**
 * The REST API over `backend` as a plain Node request listener: route matching, body parsing and
 * responses are all ours, so the hot path pays for no framework layer. The daemon serves this.
 */
export function createRestHandler(
  backend: ApiBackend,
  opts: RestOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<unknown> {
  const log = opts.log ?? defaultApiLog;
  const table = new RouteTable(routes(createKvService(backend, opts.limits)));
  const ops = opts.ops;
  /** Serve one request; resolves with the template of the route that took it. */
  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<string> => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q === -1 ? url : url.slice(0, q);
    // Every API path starts with /v0: one character comparison keeps the operator routes off its path.
    if (ops !== undefined && rawPath.charCodeAt(1) !== 0x76 /* v */) {
      const served = ops(req, res, rawPath);
      if (served !== null) {
        await served;
        return rawPath;
      }
    }
    const override = req.headers['x-http-method-override'];
    const match = table.match(req.method ?? 'GET', rawPath, {
      contentType: req.headers['content-type'],
      methodOverride: Array.isArray(override) ? override[0] : override,
    });
    switch (match.kind) {
      case 'not-found':
        sendError(res, httpErrorFromStatus(GrpcStatus.NOT_FOUND, 'Not Found'));
        return UNMATCHED_ROUTE;
      case 'method-not-allowed':
        sendError(res, httpErrorFromStatus(GrpcStatus.UNIMPLEMENTED, 'Method Not Allowed'));
        return UNMATCHED_ROUTE;
      case 'bad-request':
        sendError(res, httpErrorFromStatus(GrpcStatus.INVALID_ARGUMENT, 'Bad Request'));
        return UNMATCHED_ROUTE;
    }
    try {
      const call: RestCall = {
        req,
        params: match.params,
        rawQuery: q === -1 ? '' : url.slice(q + 1),
        formFallback: match.formFallback,
        deadlineMs: requestDeadlineMs(req, opts.requestTimeoutMs),
      };
      send(res, 200, await match.route.handler(call));
    } catch (error) {
      sendError(res, toHttpError(error, log));
    }
    return match.route.template;
  };
  const observe = opts.observeRequest;
  if (observe === undefined) return serve;
  return async (req, res) => {
    const start = performance.now();
    const route = await serve(req, res);
    observe(req.method ?? 'GET', route, res.statusCode, performance.now() - start);
  };
}
