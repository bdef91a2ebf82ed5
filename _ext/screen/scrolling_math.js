// Marks each display equation that is wider than its column ("scrolls") and the sides on which
// more of it is hidden ("more-left", "more-right"), for _ext/screen/scrolling_math.css: once
// MathJax has typeset, whenever an equation changes size (a narrower window, a fold opened) and
// as the reader scrolls it.
(() => {
  const mark = equation => {
    const hidden = equation.scrollWidth - equation.clientWidth;
    const scrolls = equation.clientWidth > 0 && hidden > 1;
    equation.classList.toggle('scrolls', scrolls);
    equation.classList.toggle('more-left', scrolls && equation.scrollLeft > 1);
    equation.classList.toggle('more-right', scrolls && equation.scrollLeft < hidden - 1);
  };
  const watch = () => {
    const resized = new ResizeObserver(entries => entries.forEach(entry => mark(entry.target)));
    for (const equation of document.querySelectorAll('div.math mjx-container[display="true"]')) {
      equation.addEventListener('scroll', () => mark(equation), { passive: true });
      resized.observe(equation);
      mark(equation);
    }
  };
  const start = () => {
    const typeset = window.MathJax && MathJax.startup && MathJax.startup.promise;
    (typeset || Promise.resolve()).then(watch);
  };
  if (document.readyState === 'complete') start();
  else window.addEventListener('load', start);
})();
