/// The app's own static files: a style sheet and the script that draws the charts the server
/// describes (Chart.js itself is Debian's, served from disk).
enum Assets {
    static let css = """
        :root { font-family: system-ui, sans-serif; color: #1d2733; background: #f6f7f9; }
        body { margin: 0; }
        header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1.2rem; background: #1d2733; color: #fff; }
        header a { color: #cfe3ff; text-decoration: none; } header a[aria-current] { color: #fff; font-weight: 600; }
        header nav { display: flex; gap: 1rem; } .spacer { flex: 1; } .user { opacity: .8; }
        main { padding: 1rem 1.5rem; max-width: 1300px; }
        table { border-collapse: collapse; margin: .5rem 0 1rem; background: #fff; }
        th, td { padding: .3rem .6rem; border-bottom: 1px solid #e3e6ea; text-align: left; font-size: .9rem; }
        .cards { display: flex; gap: 1rem; flex-wrap: wrap; } .card { background: #fff; padding: .5rem 1rem; border-radius: 6px; min-width: 12rem; }
        .card h3 { margin: .2rem 0; font-size: .85rem; color: #5b6775; }
        .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); gap: 1rem; }
        figure { background: #fff; margin: 0; padding: .6rem; border-radius: 6px; } figcaption { font-weight: 600; margin-bottom: .4rem; }
        .badge { padding: .1rem .4rem; border-radius: 4px; font-size: .75rem; background: #dde3ea; }
        .badge.champion { background: #ffd166; } .badge.challenger { background: #a0c4ff; }
        .badge.registered { background: #b9e6c3; } tr.registered td { background: #f0faf2; }
        caption { text-align: left; font-size: .85rem; color: #5b6775; padding: .2rem 0; }
        .inline { display: inline; } .narrow { max-width: 26rem; }
        .error { color: #a4161a; } .note { color: #5b6775; } .synthetic { background: #fff3cd; padding: .4rem .6rem; }
        .notice { background: #e7f5e9; padding: .4rem .6rem; }
        .fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .6rem; }
        .fields label { display: flex; flex-direction: column; font-size: .85rem; }
        .field-error { color: #a4161a; font-size: .8rem; } .up { color: #a4161a; } .down { color: #2b9348; }
        .probability { font-size: 1.4rem; }
        label { margin-right: .5rem; } button { cursor: pointer; }
        .scroll { max-width: 100%; overflow-x: auto; } .scroll table { margin: 0; }
        code { overflow-wrap: anywhere; }
        .heatmap td { min-width: 2.6rem; text-align: center; font-size: .75rem; font-variant-numeric: tabular-nums; }
        .heatmap th[scope=row] { white-space: nowrap; font-weight: 500; }
        .heatmap td.empty, .empty-swatch { background: repeating-linear-gradient(45deg, #fff, #fff 3px, #eef0f3 3px, #eef0f3 6px); }
        .h0 { background: rgba(214, 39, 40, 0.040); }
        .h1 { background: rgba(214, 39, 40, 0.136); }
        .h2 { background: rgba(214, 39, 40, 0.232); }
        .h3 { background: rgba(214, 39, 40, 0.328); }
        .h4 { background: rgba(214, 39, 40, 0.424); }
        .h5 { background: rgba(214, 39, 40, 0.520); }
        .h6 { background: rgba(214, 39, 40, 0.616); }
        .h7 { background: rgba(214, 39, 40, 0.712); }
        .h8 { background: rgba(214, 39, 40, 0.808); }
        .h9 { background: rgba(214, 39, 40, 0.904); }
        .h6, .h7, .h8, .h9 { color: #fff; }
        .legend span { display: inline-block; min-width: 3.2rem; margin-right: 2px; text-align: center; font-size: .75rem; padding: .1rem 0; }
        .empty-swatch { width: 1.2rem; height: .9rem; vertical-align: middle; border: 1px solid #e3e6ea; }
        .multiples { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 260px), 1fr)); gap: .6rem; }
        .multiples figure.wide { grid-column: 1 / -1; }
        .figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 14rem), 1fr)); gap: .8rem; margin: .6rem 0 1rem; }
        .figure { background: #fff; border-radius: 6px; padding: .6rem .9rem; display: flex; flex-direction: column; gap: .15rem; }
        .figure .label { font-size: .85rem; color: #5b6775; }
        .figure strong { font-size: 1.7rem; font-variant-numeric: tabular-nums; }
        .figure .detail { font-size: .8rem; color: #5b6775; }
        .loss { color: #b3261e; } td.better { color: #2b9348; font-weight: 600; } td.worse { color: #b3261e; font-weight: 600; }
        .terms { display: block; font-size: .75rem; color: #5b6775; } td.reasons { max-width: 34rem; }
        .badge.left { background: #eceff3; color: #5b6775; }
        .trend-up { color: #b3261e; } .trend-down { color: #2b9348; } .figure .months span { white-space: nowrap; }
        button[disabled] { cursor: not-allowed; opacity: .55; } .why-not { font-size: .75rem; }
        .chart-box { position: relative; }
        /* Korean breaks between words, never inside one. */
        html[lang=ko] body { word-break: keep-all; overflow-wrap: anywhere; }
        /* Phones and narrow windows: tables of people and offers become cards. */
        @media (max-width: 600px) {
          table.stack, table.stack tbody, table.stack tr, table.stack td { display: block; width: 100%; box-sizing: border-box; }
          table.stack thead { display: none; }
          table.stack tr { background: #fff; margin-bottom: .6rem; border: 1px solid #e3e6ea; border-radius: 6px; padding: .3rem 0; }
          table.stack td { border: none; padding: .15rem .7rem; }
          table.stack td[data-label]::before { content: attr(data-label) ": "; font-weight: 600; color: #5b6775; }
          td.reasons { max-width: none; }
          .figure strong { font-size: 1.4rem; }
        }
        /* Phones: the header wraps, the page never scrolls sideways (wide tables scroll in place). */
        @media (max-width: 640px) {
          header { flex-wrap: wrap; gap: .4rem .8rem; padding: .5rem .8rem; }
          header nav { flex-wrap: wrap; gap: .6rem; width: 100%; order: 2; }
          .spacer { display: none; }
          main { padding: .6rem .8rem; }
          .grid { grid-template-columns: minmax(0, 1fr); }
          .card { min-width: 0; flex: 1 1 100%; }
          .fields { grid-template-columns: minmax(0, 1fr); }
          input, select { max-width: 100%; }
          h1 { font-size: 1.4rem; }
        }
        """

    /// Draws every chart described in the page's `churn-charts` block; marks each canvas it drew
    /// (`data-drawn`), and counts script errors on `<body data-js-errors>` for the browser tests.
    static let chartsScript = """
        (function () {
          var errors = 0;
          window.addEventListener('error', function () { errors += 1; document.body.dataset.jsErrors = String(errors); });
          document.body.dataset.jsErrors = '0';
          var block = document.getElementById('churn-charts');
          if (!block) { document.body.dataset.chartsDrawn = '0'; return; }
          var specs = JSON.parse(block.textContent);
          if (typeof Chart === 'undefined') { document.body.dataset.charts = 'missing'; return; }
          var drawn = 0;
          specs.forEach(function (spec) {
            var canvas = document.getElementById(spec.canvas);
            if (!canvas) { return; }
            var options = spec.options || {};
            options.animation = false;
            options.responsive = true;
            // The chart's own height whatever the width (a wide window never makes it tall), and
            // never under 200 px on a narrow screen.
            var height = parseInt(canvas.getAttribute('height'), 10) || 220;
            if (window.innerWidth < 600) { height = Math.max(height, 200); }
            var box = document.createElement('div');
            box.className = 'chart-box';
            box.style.height = height + 'px';
            canvas.parentNode.insertBefore(box, canvas);
            box.appendChild(canvas);
            options.maintainAspectRatio = false;
            new Chart(canvas, { type: spec.type, data: spec.data, options: options });
            canvas.dataset.drawn = '1';
            drawn += 1;
          });
          document.body.dataset.chartsDrawn = String(drawn);
        })();
        """
}
