package org.smalloc4j.tools.heapmap;

/**
 * A script for the head of a generated HTML page that writes the page's own errors into its DOM, so
 * that a test that loads the page in a headless browser and dumps the DOM sees them: uncaught
 * exceptions ({@code window.onerror}), rejected promises nobody handled, resources that failed to
 * load, and {@code console.error} calls. Each error becomes an {@code <li>} in the list
 * {@code <ol id="page-errors">} (made at the end of the body on the first error) and the
 * {@code <html>} element's {@code data-page-errors} attribute holds the count, {@code "0"} when all
 * went well.
 *
 * <p>Put {@link #SCRIPT} first in the head, before any other script, so it is in place when they run.
 */
public final class PageErrorHook {

    /** The id of the list that holds one item per error. */
    public static final String LIST_ID = "page-errors";

    /** The attribute of the {@code <html>} element that counts the errors. */
    public static final String COUNT_ATTRIBUTE = "data-page-errors";

    /** The hook, as a {@code <script>} element. */
    public static final String SCRIPT = """
            <script>
            (function () {
              'use strict';
              var root = document.documentElement;
              root.setAttribute('%2$s', '0');
              function record(text) {
                root.setAttribute('%2$s', String(Number(root.getAttribute('%2$s')) + 1));
                var list = document.getElementById('%1$s');
                if (!list) {
                  list = document.createElement('ol');
                  list.id = '%1$s';
                  (document.body || root).appendChild(list);
                }
                var item = document.createElement('li');
                item.textContent = text;
                list.appendChild(item);
              }
              window.onerror = function (message, source, line, column) {
                record('uncaught: ' + message + ' at ' + source + ':' + line + ':' + column);
              };
              window.addEventListener('unhandledrejection', function (event) {
                record('unhandled rejection: ' + event.reason);
              });
              window.addEventListener('error', function (event) {
                if (event.target !== window) {
                  var target = event.target;
                  record('failed to load <' + target.tagName.toLowerCase() + '> ' + (target.src || target.href || ''));
                }
              }, true);
              var consoleError = console.error;
              console.error = function () {
                record('console.error: ' + Array.prototype.join.call(arguments, ' '));
                return consoleError.apply(console, arguments);
              };
            })();
            </script>
            """.formatted(LIST_ID, COUNT_ATTRIBUTE);

    private PageErrorHook() {
    }
}
