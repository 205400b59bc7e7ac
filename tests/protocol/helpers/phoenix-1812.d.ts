// The 1.8.12 client is installed as an alias; its API is the same as the typed `phoenix`.
declare module 'phoenix-1812' {
	export * from 'phoenix';
}
