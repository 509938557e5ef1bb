// coalhub's offline GraphiQL: every byte (JS, CSS, fonts) is bundled by esbuild into
// coalhub/static/graphiql/, so the page works on intranets with no internet at all.
//
// The page tells us where the GraphQL endpoint is, either with
//   <div id="graphiql" data-endpoint="/graphql"></div>
// or with a JSON config tag (it wins when both are present):
//   <script type="application/json" id="graphiql-config">{"endpoint": "/graphql"}</script>
import { GraphiQL } from 'graphiql';
import React from 'react';
import { createRoot } from 'react-dom/client';

import 'graphiql/style.css';
import './graphiql.css';

const DEFAULT_ENDPOINT = '/graphql';

function readEndpoint(container) {
  const configTag = document.getElementById('graphiql-config');
  if (configTag && configTag.textContent && configTag.textContent.trim()) {
    try {
      const config = JSON.parse(configTag.textContent);
      if (config && typeof config.endpoint === 'string' && config.endpoint) {
        return config.endpoint;
      }
    } catch (error) {
      console.error('coalhub GraphiQL: #graphiql-config is not valid JSON', error);
    }
  }
  return container.dataset.endpoint || DEFAULT_ENDPOINT;
}

// A plain fetch()-based fetcher: POST the operation as JSON with whatever the user typed
// in the headers editor (e.g. {"Authorization": "Bearer ..."}). No websockets, no CDN.
function createFetcher(endpoint) {
  return async (graphQLParams, opts) => {
    const response = await fetch(endpoint, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        Accept: 'application/graphql-response+json, application/json;q=0.9',
        'Content-Type': 'application/json',
        ...(opts && opts.headers ? opts.headers : {}),
      },
      body: JSON.stringify(graphQLParams),
    });
    const text = await response.text();
    try {
      return JSON.parse(text);
    } catch {
      // Not GraphQL JSON (a proxy's error page, a 502...): show it instead of failing silently.
      return {
        errors: [{ message: `HTTP ${response.status} ${response.statusText}: ${text.slice(0, 2000)}` }],
      };
    }
  };
}

const container = document.getElementById('graphiql');
if (container) {
  const fetcher = createFetcher(readEndpoint(container));
  createRoot(container).render(
    <GraphiQL
      fetcher={fetcher}
      isHeadersEditorEnabled
      shouldPersistHeaders
      defaultEditorToolsVisibility="headers"
    />,
  );
}
