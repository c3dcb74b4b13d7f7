/**
 * A one-line progress bar on a terminal's stderr, redrawn in place at most
 * every 100 ms; silent when stderr is not a terminal (scripts and tests see
 * only the final count).
 */

const WIDTH = 30;
const REDRAW_MS = 100;

/** A progress bar for `total` steps (unknown total: 0). */
export class ProgressBar {
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly label: string,
    private total: number,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  /** Whether the bar is shown at all. */
  get enabled(): boolean {
    return this.stream.isTTY === true;
  }

  /** Move the bar to `done` steps (and `total`, if it changed). */
  update(done: number, total = this.total): void {
    this.total = total;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS && done < total) return;
    this.lastDraw = now;
    this.stream.write(`\r${renderBar(this.label, done, this.total)}`);
    this.drawn = true;
  }

  /** Clear the bar's line, so what follows starts on a clean line. */
  finish(): void {
    if (this.drawn) this.stream.write('\r\x1b[2K');
    this.drawn = false;
  }
}

/** The bar's text: `label [#####.....]  50% 5/10`. */
export function renderBar(label: string, done: number, total: number): string {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(fraction * WIDTH);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${percent} ${done}/${total}`;
}
