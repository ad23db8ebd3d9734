/**
 * Source of a function to evaluate in a page: the contrast ratio of each visible text element
 * matching `selector` with its effective background (the first ancestor's opaque colour).
 */
export function contrastScript(selector: string): string {
  return `(() => {
  const parse = (color) => color.match(/[\\d.]+/g).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (value) => { value /= 255; return value <= 0.03928 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color.length < 4 || color[3] > 0) return color;
    }
    return [255, 255, 255];
  };
  return [...document.querySelectorAll(${JSON.stringify(selector)})]
    .filter((element) => element.getBoundingClientRect().left >= 0 && element.textContent.trim() !== '' || element.tagName === 'INPUT')
    .map((element) => {
      const [a, b] = [luminance(parse(getComputedStyle(element).color)), luminance(background(element))];
      return { text: element.textContent.trim().slice(0, 40) || element.tagName, ratio: Math.round(((Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)) * 100) / 100 };
    });
})()`;
}
