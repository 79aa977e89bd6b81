// The project's own API wrapper: calls through it are not direct calls.
import { api } from './client.js';

export function loadSettings() {
  return api.get('/settings');
}
