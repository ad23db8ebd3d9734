import { READER_LANGUAGES, readerLanguage } from '../../templates/reader-strings';
import { type Topic, topicKey } from '../commons/config';
import { InvalidInputError } from '../commons/errors';
import { checkChoices, FREQUENCIES } from './choices';
import type { Frequency, Preferences } from './types';

/** Which part of the form a refused value belongs to, so the page can say it beside that part. */
export type PreferencesField = 'topics' | 'frequency' | 'lang';

export class PreferencesError extends InvalidInputError {
  constructor(
    readonly field: PreferencesField,
    code: string,
    message: string,
  ) {
    super(code, message);
    this.name = 'PreferencesError';
  }
}

/**
 * The fields of the preferences form: `topics` repeated (one per ticked box, the topic's name),
 * `frequency` and `lang`. Every value must be one the page offers; a name no longer offered, a
 * frequency or language the list does not know, or no topic ticked is refused, and nothing is
 * saved. Ticking every offered topic stores none, which means "every post", so topics the
 * editor adds later reach this reader too.
 */
export function readPreferencesForm(fields: URLSearchParams, offered: readonly Topic[]): Preferences {
  // Refused rather than picking one, as /subscribe does: only a hand-made request repeats them.
  for (const field of ['frequency', 'lang'] as const) {
    if (fields.getAll(field).length > 1)
      throw new PreferencesError(
        field,
        'PREFERENCES_FIELD_REPEATED',
        `"${field}" was sent more than once; send it once`,
      );
  }
  const frequency = fields.get('frequency');
  if (!FREQUENCIES.includes(frequency as Frequency)) {
    throw new PreferencesError(
      'frequency',
      'PREFERENCES_FREQUENCY_INVALID',
      `"${frequency ?? ''}" is not a frequency: choose "post" (every post) or "digest" (a weekly digest)`,
    );
  }
  // Any tag the emails' languages are chosen by (zh, zh_CN, en-GB), stored as its canonical value.
  const lang = readerLanguage(fields.get('lang'));
  if (lang === undefined) {
    throw new PreferencesError(
      'lang',
      'PREFERENCES_LANGUAGE_INVALID',
      `"${fields.get('lang') ?? ''}" is not a language of this list: choose ${READER_LANGUAGES.join(' or ')}`,
    );
  }
  const checked = checkChoices({ topics: fields.getAll('topics'), frequency: frequency as Frequency }, offered);
  if ('problem' in checked) {
    const { problem } = checked;
    if (problem.kind === 'noTopic') {
      throw new PreferencesError(
        'topics',
        'PREFERENCES_NO_TOPIC',
        'Tick at least one topic, or unsubscribe from everything instead',
      );
    }
    const names = offered.map((topic) => topic.name).join(', ') || 'none (this list offers no topics)';
    throw new PreferencesError(
      'topics',
      'PREFERENCES_TOPIC_UNKNOWN',
      `"${'value' in problem ? problem.value : ''}" is not one of the topics offered; choose among ${names}`,
    );
  }
  const topics = checked.choices.topics ?? [];
  return { topics, frequency: frequency as Frequency, lang };
}

/** Which offered topics a reader's stored choice ticks: all of them when they chose none. */
export function tickedTopics(stored: readonly string[] | undefined, offered: readonly Topic[]): Set<string> {
  if (stored === undefined || stored.length === 0) return new Set(offered.map((topic) => topic.name));
  const keys = new Set(stored.map(topicKey));
  return new Set(offered.filter((topic) => keys.has(topicKey(topic.name))).map((topic) => topic.name));
}
