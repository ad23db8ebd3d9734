import { parseDocument } from 'htmlparser2';

/**
 * Gmail hides everything past ~102 KB of HTML behind "[Message clipped]", and the footer with
 * the unsubscribe link is down there. Posts are therefore cut, between top-level blocks (a
 * heading, a paragraph, a list, a code block), before the email reaches this budget; the room
 * left under Gmail's limit absorbs the per-recipient unsubscribe URL.
 */
export const HTML_SIZE_BUDGET = 100 * 1024;

export interface Block {
  html: string;
  /** Tag name of the block, '' for loose text. */
  tag: string;
}

/** The top-level blocks of a body fragment, each the exact source markup (whitespace kept with the block before). */
export function topLevelBlocks(html: string): Block[] {
  const document = parseDocument(html, { withStartIndices: true, withEndIndices: true });
  const blocks: Block[] = [];
  for (const node of document.children) {
    const start = node.startIndex ?? 0;
    const end = (node.endIndex ?? html.length - 1) + 1;
    const markup = html.slice(start, end);
    const last = blocks[blocks.length - 1];
    if (node.type === 'text' && markup.trim() === '' && last) {
      last.html += markup;
      continue;
    }
    blocks.push({ html: markup, tag: node.type === 'tag' ? node.name : '' });
  }
  return blocks;
}

/**
 * How many leading blocks fit in `budget` UTF-8 bytes. A heading is never the last block kept:
 * a heading without its section reads like a mistake.
 */
export function blocksWithin(blocks: Block[], budget: number): number {
  let used = 0;
  let count = 0;
  for (const block of blocks) {
    const size = Buffer.byteLength(block.html, 'utf8');
    if (used + size > budget) break;
    used += size;
    count++;
  }
  while (count > 0 && /^h[1-6]$/.test(blocks[count - 1]?.tag ?? '')) count--;
  return count;
}
