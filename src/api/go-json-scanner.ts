/**
 * Go's encoding/json scanner, for what grpc-gateway says about a body that is
 * not JSON. grpc-gateway's JSONPb decoder reads the first JSON value of a body
 * with Go's json.Decoder; its syntax errors ("invalid character 'k' looking
 * for beginning of value", "unexpected EOF") are what clients of the original
 * dkv saw. The hot path parses with JSON.parse; this slower scan runs only
 * when that fails.
 */
import { goQuoteByte } from './go-quote.js';

/** What Go's json.Decoder makes of a body: its first value's end, nothing but whitespace, or an error. */
export type FirstValueScan =
  | { kind: 'value'; end: number }
  | { kind: 'eof' }
  | { kind: 'error'; message: string };

/** The Go scanner's per-byte results that the Decoder acts on. */
enum Op {
  Continue,
  SkipSpace,
  EndObject,
  EndArray,
  End,
  Error,
}

/** What the innermost open container expects next. */
enum Parse {
  ObjectKey,
  ObjectValue,
  ArrayValue,
}

/** encoding/json's maxNestingDepth. */
const MAX_NESTING_DEPTH = 10000;

const isSpace = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

/** A port of encoding/json's scanner state machine (scanner.go), byte for byte, for its error messages. */
class GoScanner {
  step: (c: number) => Op = (c) => this.beginValue(c);
  readonly parseState: Parse[] = [];
  message = '';

  private error(c: number, context: string): Op {
    this.step = () => Op.Error;
    this.message = `invalid character ${goQuoteByte(c)} ${context}`;
    return Op.Error;
  }

  private push(c: number, state: Parse, next: (c: number) => Op): Op {
    this.parseState.push(state);
    if (this.parseState.length > MAX_NESTING_DEPTH) return this.error(c, 'exceeded max depth');
    this.step = next;
    return Op.Continue;
  }

  private pop(): void {
    this.parseState.pop();
    this.step = this.parseState.length === 0 ? (c) => this.endTop(c) : (c) => this.endValue(c);
  }

  beginValue(c: number): Op {
    if (isSpace(c)) return Op.SkipSpace;
    switch (c) {
      case 0x7b: // {
        return this.push(c, Parse.ObjectKey, (d) => this.beginStringOrEmpty(d));
      case 0x5b: // [
        return this.push(c, Parse.ArrayValue, (d) => this.beginValueOrEmpty(d));
      case 0x22: // "
        this.step = (d) => this.inString(d);
        return Op.Continue;
      case 0x2d: // -
        this.step = (d) => this.neg(d);
        return Op.Continue;
      case 0x30: // 0
        this.step = (d) => this.zero(d);
        return Op.Continue;
      case 0x74: // t
        return this.literal('true', 1);
      case 0x66: // f
        return this.literal('false', 1);
      case 0x6e: // n
        return this.literal('null', 1);
    }
    if (c >= 0x31 && c <= 0x39) {
      this.step = (d) => this.digits(d);
      return Op.Continue;
    }
    return this.error(c, 'looking for beginning of value');
  }

  private beginValueOrEmpty(c: number): Op {
    if (isSpace(c)) return Op.SkipSpace;
    if (c === 0x5d) return this.endValue(c);
    return this.beginValue(c);
  }

  private beginStringOrEmpty(c: number): Op {
    if (isSpace(c)) return Op.SkipSpace;
    if (c === 0x7d) {
      this.parseState[this.parseState.length - 1] = Parse.ObjectValue;
      return this.endValue(c);
    }
    return this.beginString(c);
  }

  private beginString(c: number): Op {
    if (isSpace(c)) return Op.SkipSpace;
    if (c === 0x22) {
      this.step = (d) => this.inString(d);
      return Op.Continue;
    }
    return this.error(c, 'looking for beginning of object key string');
  }

  endValue(c: number): Op {
    const n = this.parseState.length;
    if (n === 0) {
      this.step = (d) => this.endTop(d);
      return this.endTop(c);
    }
    if (isSpace(c)) {
      this.step = (d) => this.endValue(d);
      return Op.SkipSpace;
    }
    switch (this.parseState[n - 1]) {
      case Parse.ObjectKey:
        if (c === 0x3a) {
          this.parseState[n - 1] = Parse.ObjectValue;
          this.step = (d) => this.beginValue(d);
          return Op.Continue;
        }
        return this.error(c, 'after object key');
      case Parse.ObjectValue:
        if (c === 0x2c) {
          this.parseState[n - 1] = Parse.ObjectKey;
          this.step = (d) => this.beginString(d);
          return Op.Continue;
        }
        if (c === 0x7d) {
          this.pop();
          return Op.EndObject;
        }
        return this.error(c, 'after object key:value pair');
      default:
        if (c === 0x2c) {
          this.step = (d) => this.beginValue(d);
          return Op.Continue;
        }
        if (c === 0x5d) {
          this.pop();
          return Op.EndArray;
        }
        return this.error(c, 'after array element');
    }
  }

  // Go complains about a non-space byte after the top-level value only on a
  // later call; the Decoder stops at End, so that complaint never surfaces.
  private endTop(_c: number): Op {
    return Op.End;
  }

  private inString(c: number): Op {
    if (c === 0x22) {
      this.step = (d) => this.endValue(d);
      return Op.Continue;
    }
    if (c === 0x5c) {
      this.step = (d) => this.inStringEscape(d);
      return Op.Continue;
    }
    if (c < 0x20) return this.error(c, 'in string literal');
    return Op.Continue;
  }

  private inStringEscape(c: number): Op {
    // b f n r t \ / "
    if ([0x62, 0x66, 0x6e, 0x72, 0x74, 0x5c, 0x2f, 0x22].includes(c)) {
      this.step = (d) => this.inString(d);
      return Op.Continue;
    }
    if (c === 0x75) return this.unicodeEscape(4);
    return this.error(c, 'in string escape code');
  }

  private unicodeEscape(remaining: number): Op {
    this.step = (d) => {
      if (!isHex(d)) return this.error(d, 'in \\u hexadecimal character escape');
      if (remaining === 1) {
        this.step = (e) => this.inString(e);
        return Op.Continue;
      }
      return this.unicodeEscape(remaining - 1);
    };
    return Op.Continue;
  }

  private neg(c: number): Op {
    if (c === 0x30) {
      this.step = (d) => this.zero(d);
      return Op.Continue;
    }
    if (c >= 0x31 && c <= 0x39) {
      this.step = (d) => this.digits(d);
      return Op.Continue;
    }
    return this.error(c, 'in numeric literal');
  }

  private digits(c: number): Op {
    if (isDigit(c)) return Op.Continue;
    return this.zero(c);
  }

  private zero(c: number): Op {
    if (c === 0x2e) {
      this.step = (d) =>
        isDigit(d) ? this.fraction() : this.error(d, 'after decimal point in numeric literal');
      return Op.Continue;
    }
    if (c === 0x65 || c === 0x45) return this.exponentStart();
    return this.endValue(c);
  }

  private fraction(): Op {
    this.step = (d) => {
      if (isDigit(d)) return Op.Continue;
      if (d === 0x65 || d === 0x45) return this.exponentStart();
      return this.endValue(d);
    };
    return Op.Continue;
  }

  private exponentStart(): Op {
    const digit = (d: number): Op => {
      if (!isDigit(d)) return this.error(d, 'in exponent of numeric literal');
      this.step = (e) => (isDigit(e) ? Op.Continue : this.endValue(e));
      return Op.Continue;
    };
    this.step = (d) => {
      if (d === 0x2b || d === 0x2d) {
        this.step = digit;
        return Op.Continue;
      }
      return digit(d);
    };
    return Op.Continue;
  }

  /** The rest of `true`, `false` or `null`, one expected byte at a time. */
  private literal(word: string, next: number): Op {
    this.step = (d) => {
      const expected = word.charCodeAt(next);
      if (d !== expected) return this.error(d, `in literal ${word} (expecting '${word[next]}')`);
      if (next === word.length - 1) {
        this.step = (e) => this.endValue(e);
        return Op.Continue;
      }
      return this.literal(word, next + 1);
    };
    return Op.Continue;
  }
}

/**
 * Scan a body as Go's json.Decoder.Decode does (stream.go readValue): find
 * where its first JSON value ends — anything after it is left unread, as
 * grpc-gateway leaves it — or report the decoder's error: a syntax error, or
 * "unexpected EOF" for a value cut short.
 */
export function scanFirstValue(bytes: Uint8Array): FirstValueScan {
  const scanner = new GoScanner();
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    const op = scanner.step(c);
    if (op === Op.End) return { kind: 'value', end: i };
    if (op === Op.Error) return { kind: 'error', message: scanner.message };
    // After a closing bracket the Decoder feeds an invented space, so it
    // need not wait for another byte to learn that the value ended.
    if ((op === Op.EndObject || op === Op.EndArray) && scanner.parseState.length === 0) {
      return { kind: 'value', end: i + 1 };
    }
  }
  if (scanner.step(0x20) === Op.End) return { kind: 'value', end: bytes.length };
  return bytes.some((c) => !isSpace(c)) ? { kind: 'error', message: 'unexpected EOF' } : { kind: 'eof' };
}
