export declare const validatorPath: URL;
export declare function generateValidator(): string;
