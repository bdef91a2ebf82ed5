/* Loaded after RequireJS and before the ipywidgets HTML manager: see offline_widgets.py. */
(function () {
  // Resolve the widget modules (and the fonts the manager finds beside itself) from the book's
  // own copy, in this script's folder, whatever the page's depth and wherever the book is served.
  require.config({ baseUrl: new URL(".", document.currentScript.src).href });

  // The widget controls typeset their labels with MathJax 2's MathJax.Hub.Queue, which the
  // book's MathJax 3 lacks (the call throws): give them one that calls MathJax 3 instead.
  function queue(command) {
    const mathjax = window.MathJax;
    // Before MathJax 3 has started there is nothing to call: its first pass typesets the label.
    if (mathjax.typesetPromise) mathjax.typesetPromise([command[2]]);
  }
  const config = window.MathJax;  // only pages with math have one
  if (config && !config.Hub) {
    config.Hub = { Queue: queue };
    // MathJax 3 replaces this configuration object when it starts: add the bridge again then.
    const startup = (config.startup = config.startup || {});
    const ready = startup.ready;
    startup.ready = function () {
      if (ready) ready(); else window.MathJax.startup.defaultReady();
      window.MathJax.Hub = { Queue: queue };
    };
  }
})();

/* Names for what the widgets draw without one (the HTML manager gives none):
   - a slider's handle (role "slider") takes its name from the slider's description label;
   - an explorer's picture (dlcv.explore) takes its text alternative, which the widget view
     writes as the image's title, as its alt text too.
   Widgets are drawn after the page has loaded, and a picture's title changes with it. */
(function () {
  let labels = 0;
  function nameWidgets() {
    for (const handle of document.querySelectorAll(".jupyter-widgets [role='slider']:not([aria-labelledby])")) {
      const slider = handle.closest(".widget-slider");
      const label = slider && slider.querySelector(":scope > label.widget-label");
      if (!label || !label.textContent.trim()) continue;
      if (!label.id) label.id = "widget-label-" + ++labels;
      handle.setAttribute("aria-labelledby", label.id);
    }
    for (const image of document.querySelectorAll("img.widget-image[title]")) {
      if (image.alt !== image.title) image.alt = image.title;
    }
  }
  new MutationObserver(nameWidgets).observe(document.documentElement, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["title"],
  });
})();
