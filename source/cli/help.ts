// `sluice --help` and `sluice serve --help`, written by yargs from the options table. Loaded only
// to print help: yargs is the largest thing sluice would otherwise hold in memory.
import yargs from 'yargs';
import { OPTIONS, type OptionName } from '../config/config';

const VERSION_HELP = 'sluice --version prints the version.';
const CONF_HELP = 'A properties file (alluxio-site.properties style, Alluxio property names); flags and SLUICE_* variables override it';

export async function printHelp(argv: readonly string[]): Promise<void> {
  await yargs([...argv])
    .scriptName('sluice')
    .usage('$0 serve [options]\n\nServe a directory tree as S3 buckets and objects (Alluxio S3 API compatible).')
    .command('serve', 'Run the S3 server', (y) => {
      for (const [name, option] of Object.entries(OPTIONS) as [OptionName, (typeof OPTIONS)[OptionName]][]) {
        const describe = option.alluxio ? `${option.describe} [${option.alluxio}]` : option.describe;
        y.option(name, { type: option.type, default: option.default, describe });
      }
      return y.option('conf', { type: 'string', describe: CONF_HELP });
    })
    .epilogue(['Every option is also a SLUICE_<OPTION> variable (SLUICE_ROOT, SLUICE_LIST_DIRECTORIES, ...).', VERSION_HELP].join('\n'))
    // Wide enough that Alluxio property names (up to 67 characters) are never broken mid-name,
    // so a user can find them with grep or copy them whole.
    .wrap(Math.max(130, process.stdout.columns ?? 0))
    .help()
    .alias('h', 'help')
    .version(false)
    .parseAsync();
}
