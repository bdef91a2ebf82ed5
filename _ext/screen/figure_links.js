// A tap (or click) on a figure opens its image at full size. On a phone a wide figure is drawn
// at a third of its size or less, too small to read its labels; the image alone can be zoomed.
// The explorers' pictures, which change as their sliders move, are left alone.
document.addEventListener('DOMContentLoaded', () => {
  for (const image of document.querySelectorAll('article.bd-article figure img')) {
    if (image.closest('a, .jupyter-widgets, .dlcv-explorer')) continue;
    const link = document.createElement('a');
    link.href = image.getAttribute('src');
    link.className = 'figure-full-size';
    link.title = 'Open the figure at full size';
    image.replaceWith(link);
    link.appendChild(image);
  }
});
