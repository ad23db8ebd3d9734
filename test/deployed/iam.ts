/**
 * A small IAM evaluator over a role's identity-policy statements from the template: explicit
 * Deny wins, else an Allow whose Action and Resource match (with `*` and `?` wildcards, case-
 * insensitive for actions as IAM is) and whose Condition holds. Conditions cover the operators
 * this stack can use; an operator it does not know fails loudly rather than allowing.
 */
import type { Statement } from './template';

export type RequestContext = Record<string, string | string[]>;

export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: RequestContext;
}

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function wildcard(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

const OPERATORS: Record<string, (expected: string, actual: string) => boolean> = {
  StringEquals: (expected, actual) => expected === actual,
  StringNotEquals: (expected, actual) => expected !== actual,
  StringEqualsIgnoreCase: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
  StringLike: (expected, actual) => wildcard(expected, actual),
  StringNotLike: (expected, actual) => !wildcard(expected, actual),
  ArnEquals: (expected, actual) => expected === actual,
  ArnLike: (expected, actual) => wildcard(expected, actual),
  Bool: (expected, actual) => expected.toLowerCase() === actual.toLowerCase(),
};

function conditionHolds(condition: Statement['Condition'], context: RequestContext): boolean {
  for (const [rawOperator, entries] of Object.entries(condition ?? {})) {
    // ForAllValues:/ForAnyValue: for multivalued keys (ses:Recipients); IfExists when absent.
    const [, qualifier, operatorWithSuffix] = /^(?:(ForAllValues|ForAnyValue):)?(.+)$/.exec(rawOperator)!;
    const ifExists = operatorWithSuffix!.endsWith('IfExists');
    const operator = ifExists ? operatorWithSuffix!.slice(0, -'IfExists'.length) : operatorWithSuffix!;
    const test = OPERATORS[operator];
    if (!test)
      throw new Error(
        `the IAM evaluator does not know the condition operator ${rawOperator}; add it to test/deployed/iam.ts`,
      );
    for (const [key, expectedValues] of Object.entries(entries)) {
      const actual = context[key];
      if (actual === undefined) {
        if (ifExists || qualifier === 'ForAllValues') continue;
        return false;
      }
      const actualValues = list(actual);
      const matchesOne = (value: string) => list(expectedValues).some((expected) => test(expected, value));
      const negated = operator.includes('Not');
      const holds =
        qualifier === 'ForAllValues'
          ? actualValues.every(matchesOne)
          : qualifier === 'ForAnyValue' || !negated
            ? actualValues.some(matchesOne)
            : actualValues.every(matchesOne);
      if (!holds) return false;
    }
  }
  return true;
}

function matches(statement: Statement, request: AuthorizationRequest): boolean {
  const actionMatches = list(statement.Action).some((pattern) => wildcard(pattern, request.action, true));
  const resourceMatches = list(statement.Resource).some((pattern) => wildcard(pattern, request.resource));
  return actionMatches && resourceMatches && conditionHolds(statement.Condition, request.context ?? {});
}

export function isAllowed(statements: Statement[], request: AuthorizationRequest): boolean {
  if (statements.some((statement) => statement.Effect === 'Deny' && matches(statement, request))) return false;
  return statements.some((statement) => statement.Effect === 'Allow' && matches(statement, request));
}
