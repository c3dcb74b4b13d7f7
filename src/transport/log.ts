/** The logger the transport writes to: the node passes its own (pino), tests a recorder. */
export type TransportLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: object) => void;

/**
 * The logger used when none is given: warnings and errors to stderr, so a
 * rejected peer or a corrupt batch is never silent; debug and info dropped.
 */
export const defaultTransportLog: TransportLog = (level, msg, fields) => {
  if (level === 'warn' || level === 'error') {
    console.error(JSON.stringify({ level, component: 'transport', msg, ...fields }));
  }
};
