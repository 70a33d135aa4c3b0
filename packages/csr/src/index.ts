export { fromPem, toPem } from './der';
export { generateKeyAndCsr, type KeyAndCsr } from './generate-key-and-csr';
