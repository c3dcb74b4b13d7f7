/** The logger the API layer writes to: the daemon passes its own (pino), tests a recorder. */
export type ApiLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object) => void;

/**
 * The logger used when none is given: warnings and errors to stderr, so an
 * unexpected failure behind a 500 is never silent; debug and info dropped.
 */
export const defaultApiLog: ApiLog = (level, msg, fields) => {
  if (level === 'warn' || level === 'error') {
    console.error(JSON.stringify({ level, component: 'api', msg, ...fields }));
  }
};
