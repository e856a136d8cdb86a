import pino, { type Logger } from 'pino';
import type { Config } from './config';

export type { Logger };

/** JSON logs in production, pretty ones in development; one logger per process. */
export function createLogger(config: Pick<Config, 'log'>, name = 'finflow'): Logger {
  return pino({
    name,
    level: config.log.level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.refreshToken', '*.accessToken'],
      censor: '[redacted]',
    },
    ...(config.log.format === 'pretty'
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
