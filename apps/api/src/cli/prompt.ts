import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

export interface Terminal {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean };
}

const processTerminal = (): Terminal => ({ input: process.stdin, output: process.stdout });

/** True when questions can be asked (both ends are a terminal). */
export const interactive = (t: Terminal = processTerminal()) =>
  Boolean(t.input.isTTY && t.output.isTTY);

/** Asks one line; `hidden` echoes nothing (passwords). */
export function ask(question: string, options: { hidden?: boolean; terminal?: Terminal } = {}) {
  const t = options.terminal ?? processTerminal();
  let muted = false;
  // What the user types goes through this stream: silent while a hidden answer is typed.
  const echo = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) t.output.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: t.input, output: echo, terminal: Boolean(t.input.isTTY) });
  return new Promise<string>((resolve, reject) => {
    rl.question(question, (answer) => {
      rl.close();
      if (options.hidden) t.output.write('\n');
      resolve(answer);
    });
    muted = Boolean(options.hidden);
    rl.once('SIGINT', () => {
      rl.close();
      t.output.write('\n');
      reject(new Error('cancelled'));
    });
  });
}

/**
 * Asks for a new password twice, hidden, until it is long enough and both match (three
 * tries).
 */
export async function askNewPassword(options: {
  min: number;
  max: number;
  terminal?: Terminal;
}): Promise<string> {
  const t = options.terminal ?? processTerminal();
  for (let attempt = 0; attempt < 3; attempt++) {
    const password = await ask('New password: ', { hidden: true, terminal: t });
    if (password.length < options.min || password.length > options.max) {
      t.output.write(`The password must have ${options.min} to ${options.max} characters.\n`);
      continue;
    }
    const again = await ask('Repeat it: ', { hidden: true, terminal: t });
    if (again === password) return password;
    t.output.write('The two do not match.\n');
  }
  throw new Error('no password set');
}
