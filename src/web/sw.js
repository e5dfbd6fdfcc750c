// Vigil's service worker: keeps the app's own files so that a link opened once works with no
// network. The build (Trunk's post_build hook in Trunk.toml) writes the version and the file
// list below; a new build is a new cache and the old one is deleted.
'use strict';

const VERSION = '__VIGIL_VERSION__';
const FILES = ['__VIGIL_FILES__'];
const CACHE = `vigil-${VERSION}`;
// Same-origin data files (a `#src=` CSV on this host) are kept too, up to this size, and
// served from the cache only when the network fails.
const MAX_RUNTIME_BYTES = 100 * 1024 * 1024;

self.addEventListener('install', (event) => {
  // `reload`: past the HTTP cache, so the files are this version's.
  const requests = FILES.map((file) => new Request(file, { cache: 'reload' }));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('vigil-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  // Never touch other origins (the app makes no such requests; a typed data URL goes straight
  // to the network) or anything but GET.
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // The page of this version (its scripts and the worker's must match); a new version is
    // installed in the background and used from the next visit.
    event.respondWith(caches.match('./', { cacheName: CACHE }).then((cached) => cached ?? fetch(request)));
    return;
  }
  const own = FILES.some((file) => new URL(file, self.location).pathname === url.pathname);
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    if (own) {
      // The app's files never change within a version: the cache first.
      const cached = await cache.match(request, { ignoreSearch: true });
      return cached ?? fetch(request);
    }
    // Anything else (a data file on this host): the network first, so an updated export is
    // seen; the copy when there is no network.
    try {
      const response = await fetch(request);
      const size = Number(response.headers.get('content-length') ?? Infinity);
      if (response.ok && size <= MAX_RUNTIME_BYTES) cache.put(request, response.clone()).catch(() => {});
      return response;
    } catch (offline) {
      const cached = await cache.match(request);
      if (cached) return cached;
      throw offline;
    }
  })());
});
