// `weft ca root|rotate-root|retire-roots`: the mesh's certificate authority.
import { parseFlags, UsageError } from '../common/args.ts';
import { call, callText, serverFlag, serverHelp } from './client.ts';

export const usage = `Usage: weft ca root | rotate-root | retire-roots

  root           print the trust bundle (PEM): every root the mesh trusts. Proxies verify the
                 control plane's xDS certificate with it (weft proxy --xds-root-cert FILE).
  rotate-root    start a new root: new certificates are signed by it and every workload certificate is
                 re-issued; the old root stays trusted, so nothing breaks while proxies move over
  retire-roots   stop trusting the roots before the current one (after every proxy has new certificates)

Flags:
${serverHelp}`;

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, { ...serverFlag }, usage, true);
  if (positionals.length !== 1) throw new UsageError(usage);
  switch (positionals[0]) {
    case 'root':
      process.stdout.write(await callText(values.server, '/ca/root'));
      return;
    case 'rotate-root': {
      const r = await call(values.server, 'POST', '/ca/rotate-root');
      process.stdout.write(`new root in use; ${r.roots} roots trusted\n`);
      return;
    }
    case 'retire-roots': {
      const r = await call(values.server, 'POST', '/ca/retire-roots');
      process.stdout.write(`old roots retired; ${r.roots} root trusted\n`);
      return;
    }
    default:
      throw new UsageError(usage);
  }
}
