// A small, escaping Markdown renderer for the instructions preview: paragraphs, line breaks,
// **bold**, *italic*, `code`, "- " lists and "# " headings. Jinja {{ }} placeholders stay as written.
function escape(text) {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function inline(text) {
  return escape(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
}

export function markdown(source) {
  const blocks = String(source || '').replace(/\r\n/g, '\n').split(/\n{2,}/);
  return blocks.map((block) => {
    const lines = block.split('\n');
    if (lines.every((l) => /^\s*[-*] /.test(l))) {
      return `<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*] /, ''))}</li>`).join('')}</ul>`;
    }
    const heading = /^(#{1,4}) (.*)$/.exec(lines[0]);
    if (heading && lines.length === 1) return `<h${heading[1].length + 2}>${inline(heading[2])}</h${heading[1].length + 2}>`;
    return block.trim() ? `<p>${lines.map(inline).join('<br>')}</p>` : '';
  }).join('');
}
