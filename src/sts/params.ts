// Parameters of an STS call, read through their rules: a value that breaks a constraint is a
// ValidationError, in the words STS (like IAM) uses, before anything happens.

import { intViolation, memberName, missingValue, ruleViolation } from '../iam/names.js';
import { StsError } from './errors.js';
import { STS_RULES, type StsRuledParam } from './names.js';

export class StsParams {
  constructor(private readonly values: ReadonlyMap<string, string>) {}

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  names(): IterableIterator<string> {
    return this.values.keys();
  }

  required(name: StsRuledParam): string {
    const v = this.values.get(name);
    if (v === undefined) throw new StsError('ValidationError', missingValue(name));
    return this.check(name, name, v);
  }

  optional(name: StsRuledParam): string | undefined {
    const v = this.values.get(name);
    return v === undefined ? undefined : this.check(name, name, v);
  }

  private check(param: string, rule: StsRuledParam, v: string): string {
    const bad = ruleViolation(param, v, STS_RULES[rule]);
    if (bad) throw new StsError('ValidationError', bad);
    return v;
  }

  /** An integer parameter within [min, max]. */
  int(name: string, min: number, max: number): number | undefined {
    const v = this.values.get(name);
    if (v === undefined) return undefined;
    if (!/^-?\d{1,10}$/.test(v)) throw new StsError('ValidationError', `1 validation error detected: Value '${v}' at '${memberName(name)}' failed to satisfy constraint: Member must be an integer`);
    const n = Number(v);
    const bad = intViolation(name, n, [min, max]);
    if (bad) throw new StsError('ValidationError', bad);
    return n;
  }

  /**
   * A list of the query protocol: `<List>.member.<n>[.<field>]` for n = 1, 2, … (stopping at the
   * first gap, as AWS reads them), each value checked against `rule`.
   */
  list(list: string, field: string | undefined, rule: StsRuledParam, max: number): string[] {
    const out: string[] = [];
    for (let n = 1; ; n++) {
      const name = `${list}.member.${n}${field === undefined ? '' : `.${field}`}`;
      const v = this.values.get(name);
      if (v === undefined) break;
      out.push(this.check(`${list}.${n}.member.${field ?? ''}`.replace(/\.$/, ''), rule, v));
    }
    if (out.length > max) {
      throw new StsError('ValidationError', `1 validation error detected: Value '[${out.join(', ')}]' at '${memberName(list)}' failed to satisfy constraint: Member must have length less than or equal to ${max}`);
    }
    return out;
  }
}
