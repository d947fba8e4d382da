/**
 * Windowed maximum over a virtual time (draft-ietf-ccwg-bbr "BBR.max_bw Max Filter": the
 * Kathleen Nichols algorithm keeping the best, second-best and third-best samples, each younger
 * than the one before, so the maximum of a sliding window costs O(1) per update).
 *
 * Window semantics: a sample taken at time `t0` counts while `now - t0 < windowLength`, i.e. the
 * window covers the current time unit and `windowLength - 1` before it. With BBR.MaxBwFilterLen = 2
 * over BBR.cycle_count that is "the current and the previous ProbeBW cycle".
 */
export class WindowedMaxFilter {
  #windowLength: number;
  // Three (value, time) pairs: best, second, third; times non-decreasing.
  #v0 = 0;
  #t0 = 0;
  #v1 = 0;
  #t1 = 0;
  #v2 = 0;
  #t2 = 0;

  constructor(windowLength: number, initialValue = 0, initialTime = 0) {
    this.#windowLength = windowLength;
    this.reset(initialValue, initialTime);
  }

  /** The windowed maximum. */
  get best(): number {
    return this.#v0;
  }

  /** Window length in the filter's time unit. */
  get windowLength(): number {
    return this.#windowLength;
  }

  /** Changes the window length (BBR's extra_acked window is 1 round in Startup, 10 after). */
  set windowLength(length: number) {
    this.#windowLength = length;
  }

  /** Forgets everything: the only sample is `value` at `time`. */
  reset(value: number, time: number): void {
    this.#v0 = this.#v1 = this.#v2 = value;
    this.#t0 = this.#t1 = this.#t2 = time;
  }

  /**
   * Adds a sample taken at `time` (non-decreasing across calls) and returns the windowed maximum.
   * A sample of 0 only ages the window.
   */
  update(value: number, time: number): number {
    const win = this.#windowLength;
    if (value >= this.#v0 || time - this.#t2 >= win) {
      // A new best, or every kept sample expired.
      this.reset(value, time);
      return value;
    }
    if (value >= this.#v1) {
      this.#v1 = this.#v2 = value;
      this.#t1 = this.#t2 = time;
    } else if (value >= this.#v2) {
      this.#v2 = value;
      this.#t2 = time;
    }
    const age = time - this.#t0;
    if (age >= win) {
      // The best expired: promote the others, and again if the second expired too.
      this.#v0 = this.#v1;
      this.#t0 = this.#t1;
      this.#v1 = this.#v2;
      this.#t1 = this.#t2;
      this.#v2 = value;
      this.#t2 = time;
      if (time - this.#t0 >= win) {
        this.#v0 = this.#v1;
        this.#t0 = this.#t1;
        this.#v1 = this.#v2;
        this.#t1 = this.#t2;
      }
    } else if (this.#t1 === this.#t0 && age > win / 4) {
      // A quarter of the window passed with no second choice: take one from this sample.
      this.#v1 = this.#v2 = value;
      this.#t1 = this.#t2 = time;
    } else if (this.#t2 === this.#t1 && age > win / 2) {
      // Half the window passed with no third choice.
      this.#v2 = value;
      this.#t2 = time;
    }
    return this.#v0;
  }
}
