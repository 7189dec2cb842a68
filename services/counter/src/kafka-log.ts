// kafkajs logs through our pino logger, as structured fields.
import { logLevel } from 'kafkajs';
import type { logCreator } from 'kafkajs';
import type { Logger } from 'pino';

export const kafkaLogCreator =
  (logger: Logger): logCreator =>
  () =>
  ({ level, log }) => {
    const { message, ...extra } = log;
    const child = logger.child({ kafka: true });
    if (level === logLevel.ERROR) child.error(extra, `kafka: ${message}`);
    else if (level === logLevel.WARN) child.warn(extra, `kafka: ${message}`);
    else if (level === logLevel.INFO) child.info(extra, `kafka: ${message}`);
    else child.debug(extra, `kafka: ${message}`);
  };
