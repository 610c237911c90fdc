/**
 * The CDKTF app (cdktf.json "app"). `npm run synth` runs this with tsx: no cdktf-cli needed and it
 * works offline. Configuration: infra/config.ts (environment variables or cdktf.json context).
 */
import { App } from 'cdktf';
import { loadStackConfig, StackConfigError } from './config.js';
import { STACK_NAME } from './names.js';
import { PipelineStack } from './stack.js';

const app = new App();
try {
  const config = loadStackConfig(process.env, (key) => app.node.tryGetContext(key) as string | undefined);
  new PipelineStack(app, STACK_NAME, config);
} catch (error) {
  if (!(error instanceof StackConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
app.synth();
