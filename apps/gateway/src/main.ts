/**
 * `pnpm start [config-file]`: runs the gateway from a JSON or YAML file (default
 * `$BERTH_GATEWAY_CONFIG`, else `gateway.yaml`), with `BERTH_GATEWAY_*` env overrides.
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, close Berth, exit.
 */
import { isBerthError } from '@berth/core-types';
import type { Logger } from '@berth/core-types';
import { startGateway } from './gateway.js';
import { loadConfigFile } from './options.js';
import type { GatewayConfig } from './options.js';

const consoleLogger: Logger = {
  debug: () => {},
  info: (message, fields) => console.log(message, fields === undefined ? '' : JSON.stringify(fields)),
  warn: (message, fields) => console.warn(message, fields === undefined ? '' : JSON.stringify(fields)),
  error: (message, fields) => console.error(message, fields === undefined ? '' : JSON.stringify(fields)),
};

async function main(): Promise<void> {
  const path = process.argv[2] ?? process.env['BERTH_GATEWAY_CONFIG'] ?? 'gateway.yaml';
  const config = loadConfigFile(path) as GatewayConfig;
  const gateway = await startGateway(config, { env: process.env, logger: consoleLogger });
  console.log(`berth gateway listening on ${gateway.url} (config ${path})`);
  const stop = (signal: string) => {
    console.log(`${signal}: draining`);
    gateway.close().then(
      () => console.log('closed'),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(isBerthError(error) ? `${error.code}: ${error.message}` : error);
  process.exitCode = 1;
});
