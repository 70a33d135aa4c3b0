import type { LogFields, StructuredLogger } from '@thingcert/cfn-response';

/** A logger that adds `fields` to every line written through `logger`. */
export function withFields(logger: StructuredLogger, fields: LogFields): StructuredLogger {
  return {
    info: (message, more) => logger.info(message, { ...fields, ...more }),
    warn: (message, more) => logger.warn(message, { ...fields, ...more }),
    error: (message, more) => logger.error(message, { ...fields, ...more }),
  };
}
