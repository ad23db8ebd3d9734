import { type Topic, topicKey } from '../commons/config';
import type { Frequency, ReadingChoices } from './types';

/** The choices as a form or a JSON body sent them, before they are checked. */
export interface SubmittedChoices {
  /** Every `topics` value sent; undefined when the field was not sent at all. */
  topics?: string[];
  frequency?: string;
}

/** Why the choices cannot be taken; `value` is what the reader sent, for the message. */
export type ChoiceProblem =
  | { kind: 'unknownTopic'; value: string }
  | { kind: 'noTopic' }
  | { kind: 'unknownFrequency'; value: string };

export const FREQUENCIES: readonly Frequency[] = ['post', 'digest'];

/** Longest value repeated in a message; the rest of a runaway value is not worth showing. */
const SHOWN_VALUE_LENGTH = 60;

function shown(value: string): string {
  return value.length > SHOWN_VALUE_LENGTH ? `${value.slice(0, SHOWN_VALUE_LENGTH)}…` : value;
}

/**
 * A signup's topics and frequency, checked against the offered topics. Topics are matched as
 * `topicKey` compares them and stored as the editor named them. Ticking every offered topic
 * stores none: such a reader wants everything, so a topic the editor adds later reaches them
 * too. Blank values are ignored; a `topics` field sent with none chosen (the form with every
 * box unticked, or `[]`) is a problem, since storing no topics would mean every post.
 */
export function checkChoices(
  submitted: SubmittedChoices,
  offered: readonly Topic[],
): { choices: ReadingChoices } | { problem: ChoiceProblem } {
  const choices: ReadingChoices = {};
  const frequency = submitted.frequency?.trim() ?? '';
  if (frequency !== '') {
    if (!FREQUENCIES.includes(frequency as Frequency))
      return { problem: { kind: 'unknownFrequency', value: shown(frequency) } };
    choices.frequency = frequency as Frequency;
  }
  if (submitted.topics === undefined) return { choices };
  const byKey = new Map(offered.map((topic) => [topicKey(topic.name), topic.name]));
  const chosen = new Set<string>();
  for (const value of submitted.topics) {
    if (value.trim() === '') continue;
    const name = byKey.get(topicKey(value));
    if (name === undefined) return { problem: { kind: 'unknownTopic', value: shown(value.trim()) } };
    chosen.add(name);
  }
  if (chosen.size === 0) {
    // A form without topics on offer sends none; only a reader who unticked them all is asked again.
    return offered.length === 0 ? { choices } : { problem: { kind: 'noTopic' } };
  }
  if (chosen.size < offered.length)
    choices.topics = offered.map((topic) => topic.name).filter((name) => chosen.has(name));
  return { choices };
}
