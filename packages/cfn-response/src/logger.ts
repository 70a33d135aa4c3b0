/** Fields attached to one structured log line. */
export type LogFields = Record<string, unknown>;

/**
 * Where the wrapper writes its structured logs. The default writes one JSON
 * object per line to stdout/stderr, which CloudWatch Logs indexes as JSON.
 */
export interface StructuredLogger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** A logger that prints one JSON object per line, with a timestamp and level. */
export function jsonConsoleLogger(base: LogFields = {}): StructuredLogger {
  const write = (level: string, message: string, fields: LogFields = {}): void => {
    const line = JSON.stringify({
      timestamp: new Date().toISOString(),
      level,
      message,
      ...base,
      ...fields,
    });
    if (level === 'ERROR') console.error(line);
    else console.log(line);
  };
  return {
    info: (message, fields) => write('INFO', message, fields),
    warn: (message, fields) => write('WARN', message, fields),
    error: (message, fields) => write('ERROR', message, fields),
  };
}
