import { type Topic, topicKey } from '../commons/config';

/**
 * Whether a post goes to a reader. The post's topics are its categories and tags that the editor
 * offers; a post with none of them goes to everyone, and so does a reader who chose none.
 * Otherwise the reader must have chosen one of the post's topics.
 */
export function postIsFor(
  chosen: readonly string[] | undefined,
  postCategoriesAndTags: readonly string[],
  offered: readonly Topic[],
): boolean {
  if (chosen === undefined || chosen.length === 0) return true;
  const postTopics = offeredTopicsOf(postCategoriesAndTags, offered);
  if (postTopics.length === 0) return true;
  const wanted = new Set(chosen.map(topicKey));
  return postTopics.some((name) => wanted.has(topicKey(name)));
}

/** The offered topics among a post's categories and tags, by the offered name. */
export function offeredTopicsOf(postCategoriesAndTags: readonly string[], offered: readonly Topic[]): string[] {
  const keys = new Set(postCategoriesAndTags.map(topicKey));
  return offered.filter((topic) => keys.has(topicKey(topic.name))).map((topic) => topic.name);
}
