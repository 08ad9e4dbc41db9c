/**
 * A one-line progress bar on a TTY (redrawn with \r), a line every few seconds otherwise.
 * Shows done/total, percent, rate and an estimate of the time left.
 */
export function progressBar(label, total, { unit = 'rows' } = {}) {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  let done = 0;
  let lastLog = 0;
  const render = (final) => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const pct = total > 0 ? Math.min(1, done / total) : 1;
    const left = rate > 0 ? (total - done) / rate : 0;
    const width = 30;
    const filled = Math.round(pct * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const text = `${label} [${bar}] ${done.toLocaleString('en')}/${total.toLocaleString('en')} ${(pct * 100).toFixed(1)}% ${Math.round(rate).toLocaleString('en')} ${unit}/s${final ? ` in ${elapsed.toFixed(1)} s` : ` eta ${left.toFixed(0)} s`}`;
    if (tty) process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    else if (final || elapsed - lastLog >= 5) {
      lastLog = elapsed;
      process.stderr.write(`${text}\n`);
    }
  };
  return {
    add(n) {
      done += n;
      render(false);
    },
    finish() {
      render(true);
      const seconds = (performance.now() - started) / 1000;
      return { rows: done, seconds, rate: seconds > 0 ? done / seconds : 0 };
    },
  };
}
