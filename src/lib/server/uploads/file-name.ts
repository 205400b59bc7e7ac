/**
 * An upload's display name from its `X-File-Name` header. Files are stored
 * under their id, never their name, so a name cannot reach the file system;
 * it is still shown to people and offered as a download name, so it keeps
 * only what is safe to show and save: no folders, no control or bidi
 * characters (which can disguise `gpj.exe` as `exe.jpg`), none of the
 * characters Windows refuses in names, at most 200 characters.
 */
import { LIMITS, type UploadType } from '../../protocol/index.js';
import { EXTENSIONS } from './file-types.js';
import { UploadRefusal } from './port.js';

// Cc: control characters; Cf: format characters (bidi overrides, zero-width); Zl/Zp: line and paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const WINDOWS_RESERVED = /[<>:"|?*]/g;

/**
 * @example
 * displayName('..%2F..%2Fetc%2Fpasswd', 'text/plain') // 'passwd'
 * displayName(undefined, 'image/png')                  // 'file.png'
 */
export function displayName(header: string | undefined, type: UploadType): string {
	const fallback = `file${EXTENSIONS[type]}`;
	if (header === undefined || header.trim() === '') return fallback;
	let decoded: string;
	try {
		decoded = decodeURIComponent(header);
	} catch {
		throw new UploadRefusal(400, 'invalid', 'X-File-Name must be URI-encoded (encodeURIComponent)');
	}
	// The last path segment, either separator: what a folder in the name cannot escape.
	const base = decoded.normalize('NFC').split(/[/\\]/).at(-1) ?? '';
	const cleaned = base
		.replace(INVISIBLE, '')
		.replace(WINDOWS_RESERVED, '_')
		.trim()
		// Leading dots hide a file on Unix and make `..`; trailing dots and spaces vanish on Windows.
		.replace(/^[.\s]+|[.\s]+$/g, '');
	return cleaned === '' ? fallback : truncate(cleaned, LIMITS.uploadNameMaxChars);
}

/** At most `max` code points, keeping a short extension. */
function truncate(name: string, max: number): string {
	const chars = [...name];
	if (chars.length <= max) return name;
	const dot = name.lastIndexOf('.');
	const ext = dot > 0 && name.length - dot <= 10 ? [...name.slice(dot)] : [];
	return chars.slice(0, max - ext.length).join('') + ext.join('');
}

/**
 * The name to save a download under: the display name, with the type's
 * extension added when it has another one, so `photo.exe` served as a PNG
 * is saved as `photo.exe.png`.
 */
export function downloadName(name: string, type: UploadType): string {
	const ext = EXTENSIONS[type];
	const lower = name.toLowerCase();
	if (lower.endsWith(ext) || (type === 'image/jpeg' && lower.endsWith('.jpeg'))) return name;
	return name + ext;
}
