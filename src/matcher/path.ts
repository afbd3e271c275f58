import { ValidationError } from '../errors.js';
import { quote } from '../model/json.js';
import { ValueSet } from './scalars.js';

/**
 * A requirement key is a path over a JSON document, parsed once per policy into steps:
 *
 *     status.health                            property names joined by dots
 *     meta.labels["app.kubernetes.io/name"]    a quoted name (double or single quotes)
 *     status.conditions[type=healthy].status   a filter that keeps matching elements
 *
 * A bare name is any run of characters other than `.`, `[`, `]`, `=`, quotes and white
 * space; anything else goes in quotes. White space is refused in bare names because a stray
 * space would make a key that silently never matches. Inside quotes a backslash escapes the
 * quote character or another backslash. A filter is `[<path>=<value>]`: the path is made of
 * names and quoted names (no nested filters), the value is quoted or bare, and a bare value
 * may hold dots and `=` (`[version=1.2]`) but no brackets, quotes or white space. Array
 * indexes such as `[0]` are not part of the syntax: arrays fan out instead.
 */

export interface PropertyStep {
  readonly kind: 'property';
  readonly name: string;
}

export interface FilterStep {
  readonly kind: 'filter';
  /** Path, relative to the element, whose values are compared with the filter value. */
  readonly path: readonly Step[];
  readonly value: string;
  readonly equals: ValueSet;
}

export type Step = PropertyStep | FilterStep;

/** Parses a requirement key; throws a ValidationError for `field` when it is not valid. */
export function parsePath(text: string, field: string): Step[] {
  if (text === '') throw new ValidationError(field, 'must not be empty');
  return new PathParser(text, field).parse();
}

const BARE_STOP = new Set(['.', '[', ']', '=', '"', "'"]);

class PathParser {
  private position = 0;

  constructor(
    private readonly text: string,
    private readonly field: string,
  ) {}

  parse(): Step[] {
    return this.parseSteps(false);
  }

  /**
   * Reads steps until the end of the text or, inside a filter, until the `=` or `]` after
   * the filter's path. A bracket may open the path or follow a step; a name follows a dot.
   */
  private parseSteps(inFilter: boolean): Step[] {
    const steps: Step[] = [this.peek() === '[' ? this.parseBracket(inFilter) : this.parseName()];

    for (;;) {
      const next = this.peek();
      if (next === undefined || (inFilter && (next === '=' || next === ']'))) return steps;
      if (next === '[') {
        steps.push(this.parseBracket(inFilter));
      } else if (next === '.') {
        this.position++;
        steps.push(this.parseName());
      } else {
        this.fail(`unexpected ${quote(next)} at offset ${this.position}`);
      }
    }
  }

  private parseName(): PropertyStep {
    const start = this.position;
    while (this.position < this.text.length && !isBareStop(this.text[this.position] ?? '')) {
      this.position++;
    }
    if (this.position === start) {
      const found = this.peek();
      const problem =
        found === undefined || found === '.' ? 'empty property name' : `unexpected ${quote(found)}`;
      this.fail(`${problem} at offset ${start}`);
    }
    return { kind: 'property', name: this.text.slice(start, this.position) };
  }

  private parseBracket(inFilter: boolean): Step {
    const open = this.position++;
    const next = this.peek();

    let step: Step;
    if (next === '"' || next === "'") {
      const name = this.parseQuoted();
      if (name === '') this.fail(`empty property name at offset ${open}`);
      step = { kind: 'property', name };
    } else if (inFilter) {
      this.fail(`filters cannot be nested (offset ${open})`);
    } else {
      step = this.parseFilter(open);
    }

    this.close(open);
    return step;
  }

  private parseFilter(open: number): FilterStep {
    if (this.peek() === ']' || this.peek() === undefined) {
      this.fail(`empty "[]" at offset ${open}; expected a filter such as [type=healthy]`);
    }
    const path = this.parseSteps(true);
    if (this.peek() === undefined) this.fail(`unclosed "[" at offset ${open}`);
    if (this.peek() !== '=') {
      this.fail(`"[" at offset ${open} is neither a quoted name nor a filter such as [type=x]`);
    }
    this.position++;

    const value = this.peek() === '"' || this.peek() === "'" ? this.parseQuoted() : this.bare();
    return { kind: 'filter', path, value, equals: new ValueSet([value]) };
  }

  /** A bare filter value, such as `healthy` or `1.2`; it may hold dots and `=`, not `[`. */
  private bare(): string {
    const start = this.position;
    while (this.position < this.text.length && !isValueStop(this.text[this.position] ?? '')) {
      this.position++;
    }
    if (this.position === start) this.fail(`empty filter value at offset ${start}`);
    return this.text.slice(start, this.position);
  }

  private parseQuoted(): string {
    const mark = this.text[this.position];
    const open = this.position++;
    let value = '';

    for (;;) {
      const char = this.text[this.position++];
      if (char === undefined) this.fail(`unterminated quote at offset ${open}`);
      if (char === mark) return value;
      if (char === '\\') {
        const escaped = this.text[this.position++];
        if (escaped === undefined) this.fail(`unterminated quote at offset ${open}`);
        if (escaped !== mark && escaped !== '\\') {
          this.fail(`unknown escape at offset ${this.position - 2}; only \\${mark} and \\\\`);
        }
        value += escaped;
      } else {
        value += char;
      }
    }
  }

  /** Expects the `]` that ends the bracket opened at `open`. */
  private close(open: number): void {
    const next = this.peek();
    if (next === undefined) this.fail(`unclosed "[" at offset ${open}`);
    if (next !== ']') this.fail(`unexpected ${quote(next)} at offset ${this.position}`);
    this.position++;
  }

  private peek(): string | undefined {
    return this.text[this.position];
  }

  private fail(problem: string): never {
    throw new ValidationError(this.field, `invalid key ${quote(this.text)}: ${problem}`);
  }
}

const VALUE_STOP = new Set(['[', ']', '"', "'"]);

function isBareStop(char: string): boolean {
  return BARE_STOP.has(char) || /\s/.test(char);
}

function isValueStop(char: string): boolean {
  return VALUE_STOP.has(char) || /\s/.test(char);
}
