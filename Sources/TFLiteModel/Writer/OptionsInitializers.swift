/// Public factories (the synthesized memberwise initializers are internal), so code outside this module (conversions, tests) can create operators to write.
extension TFLiteModel.Conv2DOptions {
    public static func make(padding: TFLiteModel.Padding, strideWidth: Int = 1, strideHeight: Int = 1,
                            activation: TFLiteModel.Activation = .none, dilationWidth: Int = 1,
                            dilationHeight: Int = 1) -> Self {
        Self(padding: padding, strideWidth: strideWidth, strideHeight: strideHeight, activation: activation,
             dilationWidth: dilationWidth, dilationHeight: dilationHeight)
    }
}

extension TFLiteModel.DepthwiseConv2DOptions {
    public static func make(padding: TFLiteModel.Padding, strideWidth: Int = 1, strideHeight: Int = 1,
                            depthMultiplier: Int = 1, activation: TFLiteModel.Activation = .none,
                            dilationWidth: Int = 1, dilationHeight: Int = 1) -> Self {
        Self(padding: padding, strideWidth: strideWidth, strideHeight: strideHeight, depthMultiplier: depthMultiplier,
             activation: activation, dilationWidth: dilationWidth, dilationHeight: dilationHeight)
    }
}
