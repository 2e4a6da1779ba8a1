// The options of `sluice serve` from its three sources, strongest first: flags, SLUICE_*
// variables, the --conf properties file. Parsed here rather than by yargs, which costs a process
// about 9 MB of memory for good: yargs is loaded only to print --help (help.ts).
import { OPTIONS, readPropertiesFile, type OptionLabels, type OptionName, type RawOptions } from '../config/config';

export interface Invocation {
  /** The command: `serve`, or undefined when none was named. */
  command: string | undefined;
  help: boolean;
  version: boolean;
  /** The --conf file, if any: re-read on SIGHUP. */
  conf: string | undefined;
  flags: RawOptions;
}

/** A mistake in how sluice was invoked: told in one line, exit code 1. */
export class UsageError extends Error {}

const isOption = (name: string): name is OptionName => Object.hasOwn(OPTIONS, name);

/** `--listDirectories` is `--list-directories`, as yargs read it. */
const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/**
 * Reads the command line: `--name value`, `--name=value`, a bare boolean flag, `--no-name`.
 * Anything else (an unknown flag, a stray word) is a UsageError, as it was under yargs' strict mode.
 */
export function parseArguments(argv: readonly string[]): Invocation {
  const invocation: Invocation = { command: undefined, help: false, version: false, conf: undefined, flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') {
      invocation.help = true;
      continue;
    }
    if (arg === '--version') {
      invocation.version = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      if (invocation.command === undefined && !arg.startsWith('-')) invocation.command = arg;
      else throw new UsageError(`Unknown argument: ${arg}`);
      continue;
    }
    const equals = arg.indexOf('=');
    let name = kebab(arg.slice(2, equals >= 0 ? equals : undefined));
    let value: string | boolean | undefined = equals >= 0 ? arg.slice(equals + 1) : undefined;
    if (value === undefined && name.startsWith('no-') && isOption(name.slice(3))) {
      name = name.slice(3);
      value = false;
    }
    if (name === 'conf') {
      value ??= argv[++i];
      if (typeof value !== 'string' || value === '') throw new UsageError('--conf needs a file');
      invocation.conf = value;
      continue;
    }
    if (!isOption(name)) throw new UsageError(`Unknown argument: ${arg.slice(2, equals >= 0 ? equals : undefined)}`);
    if (value === undefined) {
      const next = argv[i + 1];
      if (OPTIONS[name].type === 'boolean') {
        // A boolean flag takes a following true/false, and is true alone (as yargs reads it).
        value = next === 'true' || next === 'false' ? argv[++i]! : true;
      } else {
        value = next !== undefined && !next.startsWith('--') ? argv[++i]! : '';
      }
    }
    invocation.flags[name] = value;
  }
  return invocation;
}

/** SLUICE_LIST_DIRECTORIES is --list-directories. */
const optionOfVariable = (variable: string): string => variable.slice('SLUICE_'.length).toLowerCase().replace(/_/g, '-');

/**
 * The SLUICE_* variables that name options, and those that name none (a `SLUICE_HOME` of someone's
 * shell): the caller warns of those and carries on.
 */
export function environmentOptions(env: NodeJS.ProcessEnv): { values: RawOptions; labels: OptionLabels; unknown: string[] } {
  const values: RawOptions = {};
  const labels: OptionLabels = {};
  const unknown: string[] = [];
  for (const [variable, value] of Object.entries(env)) {
    if (!variable.startsWith('SLUICE_') || value === undefined) continue;
    const name = optionOfVariable(variable);
    if (name === 'conf') continue; // SLUICE_CONF is read by `resolveOptions`
    if (isOption(name)) {
      values[name] = value;
      labels[name] = variable;
    } else {
      unknown.push(variable);
    }
  }
  return { values, labels, unknown: unknown.sort() };
}

/**
 * Every option's value and how it was written: flags over SLUICE_* variables over the --conf
 * file (SLUICE_CONF names one too). Reads the file: called again on SIGHUP to pick up changes.
 */
export function resolveOptions(invocation: Invocation, env: NodeJS.ProcessEnv): { raw: RawOptions; labels: OptionLabels } {
  const environment = environmentOptions(env);
  const conf = invocation.conf ?? (env.SLUICE_CONF !== undefined && env.SLUICE_CONF !== '' ? env.SLUICE_CONF : undefined);
  const fileLabels: OptionLabels = {};
  const file = conf !== undefined ? readConf(conf, fileLabels) : {};
  const flagLabels: OptionLabels = {};
  for (const name of Object.keys(invocation.flags) as OptionName[]) flagLabels[name] = `--${name}`;
  return {
    raw: { ...file, ...environment.values, ...invocation.flags },
    labels: { ...fileLabels, ...environment.labels, ...flagLabels },
  };
}

function readConf(path: string, labels: OptionLabels): RawOptions {
  try {
    return readPropertiesFile(path, labels);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code ? `--conf ${path} cannot be read (${code})` : (e as Error).message);
  }
}
