/**
 * @module Public names of the configuration loader.
 */

export { loadConfig, parseConfigText, CONFIG_PATH_ENV } from './load.js';
export { resolveConfig } from './resolve.js';
export type { ResolveConfigOptions } from './resolve.js';
export { ConfigError, ConfigFileError } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { ENV_PREFIX, ENV_SHORTCUTS } from './env.js';
export { BUILTIN_RULES, LOG_LEVELS } from './defaults.js';
export type {
  Config,
  MqttConfig,
  TlsConfig,
  RuleConfig,
  HttpSinkConfig,
  SinkConfig,
  SpoolConfig,
  WorkersConfig,
  FileSinkConfig,
  NatsSinkConfig,
  MqttSinkConfig,
  PipelineConfig,
} from './types.js';
