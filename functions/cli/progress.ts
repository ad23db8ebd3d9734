import { readRunningInCi } from '../commons/config';

/**
 * A one-line progress bar on stderr, never on stdout, where results go. On a terminal it
 * redraws in place. In CI, whose log has no terminal, it prints a line at most every 10%, so a
 * long run shows it is alive. Anywhere else (output piped into a file or another program) it
 * prints nothing unless asked to (`status --follow`): such output is read by scripts or later
 * in a file, where progress lines are only noise among the results.
 */
export class Progress {
  private done = 0;
  private lastPrintedStep = -1;
  private readonly startedAt = Date.now();
  private readonly mode: 'redraw' | 'lines' | 'silent';

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    options: { linesOffTerminal?: boolean } = {},
  ) {
    const ci = readRunningInCi();
    this.mode = stream.isTTY && !ci ? 'redraw' : ci || options.linesOffTerminal ? 'lines' : 'silent';
  }

  setTotal(total: number): void {
    this.total = total;
  }

  tick(count = 1, detail = ''): void {
    this.done += count;
    this.draw(detail);
  }

  update(done: number, detail = ''): void {
    this.done = done;
    this.draw(detail);
  }

  finish(): void {
    if (this.mode === 'redraw') this.stream.write('\r\x1b[2K');
    else if (this.lastPrintedStep < 10) this.draw('', true);
  }

  private draw(detail: string, force = false): void {
    if (this.mode === 'silent') return;
    const total = Math.max(this.total, 1);
    const fraction = Math.min(this.done / total, 1);
    const seconds = (Date.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? `${Math.round(this.done / seconds)}/s` : '';
    if (this.mode === 'redraw') {
      const width = 24;
      const filled = Math.round(fraction * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      const line = `${this.label} ${bar} ${this.done}/${this.total} ${rate} ${detail}`;
      this.stream.write(`\r\x1b[2K${line.slice(0, (this.stream.columns || 100) - 1)}`);
      return;
    }
    const step = Math.floor(fraction * 10);
    if (step > this.lastPrintedStep || force) {
      this.lastPrintedStep = step;
      this.stream.write(`${this.label}: ${this.done}/${this.total} (${Math.round(fraction * 100)}%) ${rate}\n`);
    }
  }
}
