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
  return readersOfPost(postCategoriesAndTags, offered)(chosen);
}

/**
 * `postIsFor` with the post's side worked out once: dispatch asks it for every reader of a page.
 */
export function readersOfPost(
  postCategoriesAndTags: readonly string[],
  offered: readonly Topic[],
): (chosen: readonly string[] | undefined) => boolean {
  const postTopics = new Set(offeredTopicsOf(postCategoriesAndTags, offered).map(topicKey));
  return (chosen) =>
    chosen === undefined ||
    chosen.length === 0 ||
    postTopics.size === 0 ||
    chosen.some((name) => postTopics.has(topicKey(name)));
}

/** The offered topics among a post's categories and tags, by the offered name. */
export function offeredTopicsOf(postCategoriesAndTags: readonly string[], offered: readonly Topic[]): string[] {
  const keys = new Set(postCategoriesAndTags.map(topicKey));
  return offered.filter((topic) => keys.has(topicKey(topic.name))).map((topic) => topic.name);
}
