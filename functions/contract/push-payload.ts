import * as z from 'zod';

/**
 * The parts of GitHub's `push` webhook payload pushletter reads
 * (https://docs.github.com/webhooks/webhook-events-and-payloads#push). Each message finishes
 * "<field> …", so the error names the field and what it must be.
 */
const nonEmpty = z.string({ error: 'must be a non-empty string' }).min(1, { error: 'must be a non-empty string' });

// GitHub always sends the three lists, but an empty or missing one means "no files".
const paths = z
  .custom<string[] | null | undefined>(
    (value) =>
      value === undefined ||
      value === null ||
      (Array.isArray(value) && value.every((item) => typeof item === 'string')),
    { error: 'must be a list of file paths' },
  )
  .optional()
  .transform((value) => value ?? []);

const SHA = /^[0-9a-f]{40}([0-9a-f]{24})?$/i;

export const pushPayloadSchema = z.object(
  {
    /** `refs/heads/<branch>` or `refs/tags/<tag>`. */
    ref: nonEmpty,
    before: nonEmpty,
    /** The commit the branch points at after the push: posts are read at this commit. */
    after: nonEmpty.refine((value) => SHA.test(value), {
      error: (issue) => `must be a commit sha (got "${String(issue.input).slice(0, 80)}")`,
    }),
    repository: z.object({ full_name: nonEmpty }, { error: 'must be an object' }),
    /** True when the push deleted the branch. */
    deleted: z.unknown().optional(),
    commits: z
      .array(
        z.object({ id: nonEmpty, added: paths, removed: paths, modified: paths }, { error: 'must be an object' }),
        {
          error: 'must be a list',
        },
      )
      .nullish()
      .transform((value) => value ?? []),
  },
  { error: 'the body must be a JSON object' },
);

/** `commits[0].added`: where a zod issue is, as the editor reads the payload. */
export function payloadPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, index) => (typeof key === 'number' ? `[${key}]` : `${index === 0 ? '' : '.'}${String(key)}`))
    .join('');
}
