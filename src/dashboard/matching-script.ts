/**
 * The SCIM Matching page's script (plain ES5-level JavaScript, no build step): when the strategy selector
 * changes, it re-renders the affected-users region from the report model embedded in the page, builds every
 * node with textContent (no HTML parsing of data), and keeps `?strategy=` in the address bar.
 * The markup it builds is the same as matching-page.ts renders on the server.
 */
import { raw } from './html.js';

export const MATCHING_SCRIPT = raw(`(function () {
  'use strict';
  var dataNode = document.getElementById('matching-data');
  var select = document.getElementById('strategy');
  var region = document.getElementById('affected');
  if (!dataNode || !select || !region) return;
  var model = JSON.parse(dataNode.textContent);
  var byName = {};
  model.strategies.forEach(function (s) { byName[s.strategy] = s; });

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function plural(n, word) { return n + ' ' + word + (n === 1 ? '' : 's'); }
  function summary(s) {
    var parts = [plural(s.affected, 'affected user') + ' under ' + s.strategy, s.admitted + ' admitted'];
    if (s.inactive) parts.push(s.inactive + ' deactivated or deleted in SCIM (correctly refused)');
    if (s.ambiguous) parts.push(s.ambiguous + ' ambiguous');
    return parts.join(', ') + '.' + (s.affected + s.ambiguous === 0 ? ' Nobody is locked out by this strategy.' : '');
  }
  function userList(id, users, total) {
    var list = el('ul', { id: id, 'class': 'plain' });
    users.forEach(function (u) {
      var item = el('li');
      item.appendChild(el('a', { href: model.compareUrl + encodeURIComponent(u.subject) }, u.label));
      var details = 'sub ' + u.subject + (u.name ? ' · ' + u.name : '');
      item.appendChild(document.createTextNode(' '));
      item.appendChild(el('span', { 'class': 'muted' }, details));
      list.appendChild(item);
    });
    var out = [list];
    if (total > users.length) out.push(el('p', { 'class': 'muted' }, 'and ' + (total - users.length) + ' more'));
    return out;
  }
  function render(name) {
    var s = byName[name];
    if (!s) return;
    var parts = [el('h2', { id: 'affected-heading' }, 'Affected users')];
    parts.push(el('p', { id: 'affected-summary' }, summary(s)));
    if (s.affected === 0) {
      parts.push(el('p', { id: 'affected-empty' }, 'No affected users: under ' + s.strategy + ', no SSO user would be refused as deactivated or never provisioned.'));
    }
    parts.push.apply(parts, userList('affected-list', s.affectedUsers, s.affected));
    if (s.ambiguous) {
      parts.push(el('h3', {}, 'Ambiguous: they match several SCIM users'));
      parts.push.apply(parts, userList('ambiguous-list', s.ambiguousUsers, s.ambiguous));
    }
    while (region.firstChild) region.removeChild(region.firstChild);
    parts.forEach(function (p) { region.appendChild(p); });
    region.setAttribute('data-strategy', s.strategy);
  }
  select.addEventListener('change', function () {
    render(select.value);
    var url = new URL(window.location.href);
    url.searchParams.delete('saved');
    url.searchParams.set('strategy', select.value);
    window.history.replaceState(null, '', url.toString());
  });
})();`);
