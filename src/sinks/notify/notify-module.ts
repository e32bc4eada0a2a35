/**
 * The notifier as an engine module (src/engine): `vigil run` / `vigil start` can run it in-process
 * with `modules: [..., notifyModule()]`. Its API routes go on the engine's HTTP server and answer
 * 503 until the notifier has started. Routes, receivers and inhibits come from the engine's rules paths.
 */
import type { EngineModule } from '../../engine/engine-module.js';
import type { NotifyConfig } from './notify-config.js';
import { registerNotifyRoutes } from './notify-http.js';
import { startNotifier, type RunningNotifier } from './notifier-service.js';

export interface NotifyModuleOptions {
  /** The notification config given directly instead of the rules files. */
  readonly notify?: NotifyConfig;
  /** See StartNotifierOptions.missingRoutingKey ('log' for the embedded dev setup). */
  readonly missingRoutingKey?: 'error' | 'log';
}

export function notifyModule(options: NotifyModuleOptions = {}): EngineModule {
  let running: RunningNotifier | undefined;
  let delivered = 0;
  return {
    name: 'notify',
    routes(app) {
      registerNotifyRoutes(app, () => running?.api);
    },
    async start(ctx) {
      running = await startNotifier(ctx.config, {
        http: false,
        ...(options.missingRoutingKey ? { missingRoutingKey: options.missingRoutingKey } : {}),
        ...(options.notify ? { notify: options.notify } : { rulesPaths: ctx.rulesPaths }),
        onDelivered: () => void delivered++,
      });
    },
    async stop() {
      await running?.stop();
      running = undefined;
    },
    status: () => `${delivered} notifications, ${running?.core.groups.size ?? 0} groups`,
  };
}
