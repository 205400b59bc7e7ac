/**
 * Which files we take, and whether the bytes are what the client says they
 * are. Checked while the body streams in, so a lie is refused after its
 * first bytes rather than after 10 MiB.
 *
 * The five binary signatures are a table here rather than a detection
 * library: a detector answers "what is this?" with finer types than ours
 * (an animated PNG, an Illustrator file that is a PDF), while we only ask
 * "does this start the way its declared type must?".
 */
import { UPLOAD_TYPES, type UploadType } from '../../protocol/index.js';
import { UploadRefusal } from './port.js';

/** Leading bytes of each binary type: a byte, a list of allowed bytes, or `null` for any byte. */
type SignatureByte = number | readonly number[] | null;
const SIGNATURES: Record<Exclude<UploadType, 'text/plain'>, SignatureByte[]> = {
	'image/png': [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
	'image/jpeg': [0xff, 0xd8, 0xff],
	'image/gif': [0x47, 0x49, 0x46, 0x38, [0x37, 0x39], 0x61], // GIF87a or GIF89a
	'image/webp': [0x52, 0x49, 0x46, 0x46, null, null, null, null, 0x57, 0x45, 0x42, 0x50], // RIFF....WEBP
	'application/pdf': [0x25, 0x50, 0x44, 0x46, 0x2d] // %PDF-
};

/** The file name extension each type is saved with on download. */
export const EXTENSIONS: Record<UploadType, string> = {
	'image/png': '.png',
	'image/jpeg': '.jpg',
	'image/gif': '.gif',
	'image/webp': '.webp',
	'application/pdf': '.pdf',
	'text/plain': '.txt'
};


/**
 * The upload type a `Content-Type` header names, or a 415 refusal. Parameters
 * are dropped, except that `text/plain` may only declare UTF-8 (or its subset
 * US-ASCII).
 */
export function uploadTypeOf(header: string | undefined): UploadType {
	const [media = '', ...params] = (header ?? '').split(';');
	const type = media.trim().toLowerCase();
	if (!(UPLOAD_TYPES as readonly string[]).includes(type)) {
		throw new UploadRefusal(415, 'invalid', `Content-Type must be one of ${UPLOAD_TYPES.join(', ')}; got ${JSON.stringify(media.trim() || '(none)')}`);
	}
	for (const param of params) {
		const [name = '', value = ''] = param.split('=').map((part) => part.trim().toLowerCase().replace(/^"|"$/g, ''));
		if (type === 'text/plain' && name === 'charset' && value !== 'utf-8' && value !== 'us-ascii') {
			throw new UploadRefusal(415, 'invalid', `text/plain files must be UTF-8, not ${value}`);
		}
	}
	return type as UploadType;
}

/** Checks a body chunk by chunk against its declared type; throws a 415 `UploadRefusal` at the first byte that cannot be. */
export interface ContentCheck {
	update(chunk: Buffer): void;
	/** The body ended: throws when it was too short to tell, or ends inside a UTF-8 character. */
	finish(): void;
}

export function contentCheck(type: UploadType): ContentCheck {
	return type === 'text/plain' ? utf8Check() : signatureCheck(type, SIGNATURES[type]);
}

function signatureCheck(type: UploadType, signature: SignatureByte[]): ContentCheck {
	let seen = 0;
	const refuse = () => new UploadRefusal(415, 'invalid', `the bytes are not ${type} (their signature does not match)`);
	return {
		update(chunk) {
			for (let i = 0; i < chunk.length && seen < signature.length; i++, seen++) {
				const expected = signature[seen]!;
				const byte = chunk[i]!;
				if (expected !== null && (typeof expected === 'number' ? byte !== expected : !expected.includes(byte))) throw refuse();
			}
		},
		finish() {
			if (seen < signature.length) throw refuse();
		}
	};
}

function utf8Check(): ContentCheck {
	// fatal: throws at the first invalid sequence; stream: a character split across chunks is fine.
	const decoder = new TextDecoder('utf-8', { fatal: true });
	const refuse = (why: string) => new UploadRefusal(415, 'invalid', `text/plain must be UTF-8 without NUL bytes: ${why}`);
	return {
		update(chunk) {
			if (chunk.includes(0)) throw refuse('it holds a NUL byte');
			try {
				decoder.decode(chunk, { stream: true });
			} catch {
				throw refuse('it is not valid UTF-8');
			}
		},
		finish() {
			try {
				decoder.decode();
			} catch {
				throw refuse('it ends inside a character');
			}
		}
	};
}
