/** [██████░░░░] for a progress line on a terminal. */
export function progressBar(done: number, total: number, width = 24): string {
  const ratio = total === 0 ? 1 : Math.min(done / total, 1);
  const filled = Math.round(ratio * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/**
 * A progress line on a stream: redrawn in place on a terminal (at most ten times a second),
 * else only the final line is written, so that logs and pipes stay clean.
 */
export function progressLine(stream: NodeJS.WriteStream) {
  const started = Date.now();
  let drawn = 0;
  let last = '';
  return {
    update(done: number, total: number | null, noun: string) {
      const seconds = Math.max((Date.now() - started) / 1000, 0.001);
      const rate = `${Math.round(done / seconds)}/s`;
      last =
        total === null
          ? `${done} ${noun} (${rate})`
          : `${progressBar(done, total)} ${done} of ${total} ${noun} (${rate})`;
      if (!stream.isTTY || Date.now() - drawn < 100) return;
      drawn = Date.now();
      stream.write(`\r${last}\u001b[K`);
    },
    /** Ends the line (on a terminal) or writes the last state once (elsewhere). */
    done() {
      if (stream.isTTY) stream.write(`\r${last}\u001b[K\n`);
      else if (last) stream.write(`${last}\n`);
    },
  };
}
