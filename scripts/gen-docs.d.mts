export declare const docsPath: URL;
export declare function generateDocs(): string;
