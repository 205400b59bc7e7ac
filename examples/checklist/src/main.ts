import { mount } from 'svelte';
import App from './App.svelte';

mount(App, { target: document.getElementById('app') as HTMLElement });

// The app shell, cached so a reload works offline (public/sw.js).
if ('serviceWorker' in navigator) void navigator.serviceWorker.register('/sw.js');
